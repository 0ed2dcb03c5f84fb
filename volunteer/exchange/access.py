"""Who uses which supermarket: members of a community shop in it, its stewards and admins run its desk."""

from ..service.access import member_community_ids, steward_community_ids

__all__ = ["desk_community_ids", "shop_community_ids"]


def shop_community_ids(user) -> set[int]:
    """Communities whose catalogue the user may browse and reserve from (resident, volunteer or staff)."""
    return member_community_ids(user)


def desk_community_ids(user) -> set[int]:
    """Communities whose desk, catalogue and stock the user runs (steward or admin; organisers included)."""
    return steward_community_ids(user)
