from trimtab.testing.fixtures import fake_exchange, perp_venue, spot_venue

__all__ = ["fake_exchange", "perp_venue", "spot_venue"]
