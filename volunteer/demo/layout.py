"""The fixed shape of the demo district: streets, communities, compounds, units, agreements, logins."""

from typing import NamedTuple

DISTRICT = "成华区"
PASSWORD = "demo1234"
RNG_SEED = 1112
RESIDENTS = 300
PARTY_MEMBERS = 60
# Share of members reporting to the community they live in (the rest serve a neighbouring one).
REPORT_AT_HOME = 0.8

# Every memorable login is 13900000 followed by a three-digit code; random phones avoid the block.
FIXED_PREFIX = "13900000"


def fixed_phone(code: str) -> str:
    return FIXED_PREFIX + code


DISTRICT_ORGANISER = "001"  # street organisers: 002, 003


def street_organiser(street_no: int) -> str:
    return f"{street_no + 1:03d}"


def community_staff(role: str, community_no: int) -> str:
    """admin 01N, steward 02N, where N numbers the communities from 1."""
    return {"admin": "01", "steward": "02"}[role] + str(community_no)


def compound_staff(seat: int, community_no: int, compound_no: int) -> str:
    """collector 3NM, council members 4NM and 5NM (N community, M compound, both from 1)."""
    return f"{3 + seat}{community_no}{compound_no}"


def employer_contact(unit_no: int) -> str:
    return f"6{unit_no:02d}"


DEMO_RESIDENT = "801"
DEMO_VOLUNTEER = "802"
# Units (numbered from 1) whose contact person has an employer login.
UNITS_WITH_LOGIN = (1, 2)


class CompoundPlan(NamedTuple):
    name: str
    kind: str
    buildings: int


class CommunityPlan(NamedTuple):
    name: str
    address: str
    phone: str
    compounds: tuple[CompoundPlan, ...]


class StreetPlan(NamedTuple):
    name: str
    communities: tuple[CommunityPlan, ...]


STREETS = (
    StreetPlan(
        "猛追湾街道",
        (
            CommunityPlan(
                "望平社区",
                "成都市成华区望平街68号",
                "028-84310201",
                (
                    CompoundPlan("玛塞城小区", "compound", 6),
                    CompoundPlan("望平滨河小区", "compound", 4),
                    CompoundPlan("东风大桥网格", "grid", 3),
                    CompoundPlan("锦江新城小区", "compound", 5),
                ),
            ),
            CommunityPlan(
                "香香巷社区",
                "成都市成华区香香巷12号",
                "028-84310318",
                (
                    CompoundPlan("香香巷小区", "compound", 4),
                    CompoundPlan("猛追湾花园", "compound", 5),
                    CompoundPlan("新华路网格", "grid", 3),
                ),
            ),
        ),
    ),
    StreetPlan(
        "府青路街道",
        (
            CommunityPlan(
                "府青社区",
                "成都市成华区府青路二段25号",
                "028-83320156",
                (
                    CompoundPlan("府青苑小区", "compound", 5),
                    CompoundPlan("万科城市花园", "compound", 6),
                    CompoundPlan("建设北路网格", "grid", 3),
                    CompoundPlan("和美东方小区", "compound", 4),
                ),
            ),
            CommunityPlan(
                "八里庄社区",
                "成都市成华区八里庄路9号",
                "028-83320477",
                (
                    CompoundPlan("八里小区", "compound", 4),
                    CompoundPlan("双林北支路网格", "grid", 3),
                    CompoundPlan("东方明珠花园", "compound", 5),
                ),
            ),
        ),
    ),
)

# Employers and other units in the area (驻区单位), with their street address.
UNITS = (
    ("国网成都供电公司成华供电中心", "成都市成华区建设北路一段7号"),
    ("国家税务总局成都市成华区税务局", "成都市成华区府青路二段48号"),
    ("成都市成华区府青路中学", "成都市成华区府青路三段2号"),
    ("成都市成华区人民医院", "成都市成华区猛追湾街38号"),
    ("中国建设银行成都府青路支行", "成都市成华区府青路二段9号"),
    ("中国工商银行成都猛追湾支行", "成都市成华区猛追湾横街16号"),
    ("成都市成华区市场监督管理局", "成都市成华区双林路258号"),
    ("中国邮政集团成都市成华区分公司", "成都市成华区建设路55号"),
    ("成都市公共交通集团第三分公司", "成都市成华区八里庄路60号"),
    ("成都市成华区猛追湾小学", "成都市成华区望平街20号"),
)


class AgreementPlan(NamedTuple):
    unit_no: int  # from 1, as in UNITS
    community_no: int  # from 1, in the order of STREETS
    month: int
    content: str


AGREEMENTS = (
    AgreementPlan(1, 1, 3, "用电安全进社区；党员义工每月上门检修独居老人家中线路。"),
    AgreementPlan(2, 1, 4, "税费政策宣讲进小区；捐赠积分兑换超市米面油等物资。"),
    AgreementPlan(3, 2, 5, "周末开放学校运动场；学生志愿者参与社区课后托管。"),
    AgreementPlan(4, 2, 6, "每季度义诊和健康讲座；慢病随访。"),
    AgreementPlan(4, 3, 6, "家庭医生签约服务进小区。"),
    AgreementPlan(5, 3, 9, "捐赠积分兑换超市物资；金融知识与防诈骗宣传。"),
    AgreementPlan(6, 4, 10, "适老化金融服务；开放网点会议室作为议事场所。"),
    AgreementPlan(9, 4, 11, "公交线路征求居民意见；党员司机参与文明劝导。"),
)
