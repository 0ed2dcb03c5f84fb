"""A community's exchange objects (items, a donation, vouchers), their texts private markers, for the crawls."""

from dataclasses import dataclass, field

from volunteer.exchange import catalogue, desk, vouchers

from ..service.matrix_objects import evidence_photo
from . import factories as xf


@dataclass
class Objects:
    """Ids of a community's exchange objects (candidate URL arguments) and the text that must not leak."""

    item: int  # on sale, in stock, with a photo and a unit's donation
    plain_item: int  # on sale, in stock, no photo
    voucher: int  # the resident's reserved voucher of `item`
    redeemed: int  # the resident's voucher of `plain_item`, handed over by the steward just now
    codes: list[str] = field(default_factory=list)  # what the vouchers' holders type at the desk
    markers: list[str] = field(default_factory=list)


def create(community, steward, resident, unit, text: str, mark: str) -> Objects:
    """Each object in a state where a foreign actor's step would succeed if access were not checked:
    items on sale with stock, a live voucher (to cancel, scan, hand over) and a redeemed one within
    its undo window. Every text is "<text><kind><mark>", e.g. 和平大米乙."""
    words = {k: f"{text}{k}{mark}" for k in ("大米", "大米说明", "毛巾", "捐赠")}
    item = xf.item(community, units=5, price=10, name=words["大米"], description=words["大米说明"])
    item.photo = evidence_photo()
    xf.factories._commit(item)
    plain = xf.item(community, units=3, price=5, name=words["毛巾"], category="cleaning")
    catalogue.add_stock(steward, item.id, 2, kind="donation", unit_id=unit.id, note=words["捐赠"])
    xf.fund(resident, community, 100)
    voucher = vouchers.reserve(resident, item.id)
    redeemed = vouchers.reserve(resident, plain.id)
    codes = [voucher.code, redeemed.code]
    voucher_id, redeemed_id = voucher.id, redeemed.id
    assert desk.hand_over(steward, redeemed.code).ok
    return Objects(
        item=item.id,
        plain_item=plain.id,
        voucher=voucher_id,
        redeemed=redeemed_id,
        codes=codes,
        markers=[*words.values(), *codes],
    )
