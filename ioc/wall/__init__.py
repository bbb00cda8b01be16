"""The video wall: screens registered as devices with their own revocable view-only key, each screen's
playlist (wall.yaml), and when a critical alarm or warning takes the wall over."""
