"""What the demo's 1112 service says: activities, projects, resources, needs and the words people write."""

from typing import NamedTuple


class ActivityPlan(NamedTuple):
    title: str
    category: str
    place: str  # {community} and {compound} are filled in
    start: tuple[int, int]  # local hour and minute
    minutes: int
    places: tuple[int, int]  # fewest and most places offered
    description: str
    weekend: bool | None = None  # True: Saturday or Sunday; False: a school day; None: any day


HALL = "{community}党群服务中心"

# Events of the season, by month (the ones that month may add to the everyday activities).
SEASONAL = {
    1: (
        ActivityPlan(
            "迎新春·写春联送福字",
            "culture",
            HALL + "一楼大厅",
            (9, 30),
            150,
            (10, 15),
            "邀请书法爱好者现场写春联、送福字；志愿者负责铺纸研墨、维持秩序，给行动不便的老人送上门。",
            True,
        ),
        ActivityPlan(
            "春节前走访慰问独居老人",
            "elderly",
            "{compound}",
            (14, 30),
            150,
            (6, 8),
            "两人一组入户走访独居、空巢老人，送上米面油和春联，检查家中用电用气安全。",
        ),
    ),
    2: (
        ActivityPlan(
            "元宵节猜灯谜",
            "culture",
            "{compound}中心花园",
            (18, 30),
            120,
            (10, 20),
            "布置灯谜、发放汤圆；志愿者负责兑奖、引导和安全巡查。",
        ),
    ),
    3: (
        ActivityPlan(
            "学雷锋志愿服务日",
            "other",
            HALL + "门前广场",
            (9, 0),
            180,
            (15, 25),
            "理发、磨刀、修伞、量血压、家电维修等便民摊位，志愿者分组服务居民。",
            True,
        ),
        ActivityPlan(
            "植树节·小区绿地补种",
            "environment",
            "{compound}",
            (9, 0),
            120,
            (8, 12),
            "补种小区绿地缺株的灌木和花苗，清理绿化带垃圾。工具由物业提供。",
            True,
        ),
    ),
    4: (
        ActivityPlan(
            "全民国家安全教育日宣传",
            "safety",
            HALL + "门前广场",
            (9, 30),
            120,
            (6, 10),
            "摆放展板、发放宣传资料，讲解反间谍、防范网络谣言等国家安全常识。",
        ),
    ),
    5: (
        ActivityPlan(
            "防灾减灾日应急疏散演练",
            "safety",
            "{compound}",
            (15, 0),
            120,
            (8, 12),
            "配合消防站开展地震应急疏散演练，志愿者分楼栋引导居民有序疏散、清点人数。",
        ),
    ),
    6: (
        ActivityPlan(
            "端午包粽子·粽香送邻里",
            "culture",
            HALL + "二楼活动室",
            (9, 30),
            150,
            (10, 15),
            "和居民一起包粽子，包好的粽子由志愿者送到独居老人和困难家庭。",
            True,
        ),
        ActivityPlan(
            "防溺水安全教育进小区",
            "children",
            "{compound}中心花园",
            (16, 30),
            90,
            (5, 8),
            "给小区孩子讲防溺水“六不准”，发放暑期安全告知书，提醒家长看护。",
        ),
    ),
    7: (
        ActivityPlan(
            "暑期托管·快乐小课堂",
            "children",
            HALL + "四点半课堂",
            (9, 0),
            180,
            (5, 8),
            "双职工家庭孩子暑期托管：上午辅导暑假作业，穿插手工和阅读。",
            False,
        ),
        ActivityPlan(
            "高温天气探访独居老人",
            "elderly",
            "{compound}",
            (9, 30),
            120,
            (5, 8),
            "入户提醒防暑降温，送绿豆和藿香正气水，检查空调风扇是否正常。",
        ),
    ),
    8: (
        ActivityPlan(
            "暑期托管·快乐小课堂",
            "children",
            HALL + "四点半课堂",
            (9, 0),
            180,
            (5, 8),
            "双职工家庭孩子暑期托管：上午辅导暑假作业，穿插手工和阅读。",
            False,
        ),
    ),
    9: (
        ActivityPlan(
            "中秋游园会",
            "culture",
            HALL + "门前广场",
            (18, 30),
            150,
            (20, 30),
            "猜灯谜、做月饼、投壶等游园项目，志愿者负责各摊位组织、兑奖和安全。",
            True,
        ),
        ActivityPlan(
            "开学季·四点半课堂开班",
            "children",
            HALL + "四点半课堂",
            (16, 30),
            90,
            (5, 8),
            "新学期四点半课堂开班，志愿者辅导作业、组织阅读，等家长下班来接。",
            False,
        ),
    ),
    10: (
        ActivityPlan(
            "重阳节敬老饺子宴",
            "elderly",
            HALL + "二楼活动室",
            (10, 0),
            180,
            (12, 20),
            "邀请80岁以上老人吃饺子、看节目；志愿者负责包饺子、接送行动不便的老人。",
            True,
        ),
        ActivityPlan(
            "国庆升旗仪式和红歌合唱",
            "culture",
            HALL + "门前广场",
            (8, 30),
            120,
            (10, 20),
            "组织居民参加升旗仪式，合唱《我和我的祖国》；志愿者负责签到和秩序。",
        ),
    ),
    11: (
        ActivityPlan(
            "消防宣传月·入户排查隐患",
            "safety",
            "{compound}",
            (14, 30),
            150,
            (6, 10),
            "配合网格员入户检查燃气软管、插线板，清理楼道堆放的易燃杂物，发放宣传单。",
        ),
    ),
    12: (
        ActivityPlan(
            "冬至送温暖·包饺子",
            "elderly",
            HALL + "二楼活动室",
            (10, 0),
            150,
            (10, 15),
            "和老人一起包饺子过冬至，给困难家庭送去棉被和米面油。",
            True,
        ),
        ActivityPlan(
            "年终楼道大扫除",
            "environment",
            "{compound}",
            (9, 0),
            150,
            (8, 15),
            "清扫楼道、擦拭扶手，清理堆放杂物，迎接新年。",
            True,
        ),
    ),
}

EVERYDAY = (
    ActivityPlan(
        "小区环境大扫除",
        "environment",
        "{compound}",
        (9, 0),
        150,
        (8, 15),
        "清扫小区公共区域、清理绿化带垃圾和小广告。扫帚、手套由物业提供。",
        True,
    ),
    ActivityPlan(
        "垃圾分类定时定点督导",
        "environment",
        "{compound}垃圾分类投放点",
        (7, 30),
        90,
        (5, 6),
        "早高峰在投放点值守，指导居民分类投放，对混投的袋子二次分拣。",
    ),
    ActivityPlan(
        "夜间平安巡逻",
        "safety",
        "{compound}",
        (19, 30),
        120,
        (5, 8),
        "戴红袖标巡查小区，重点查看电动车停放、消防通道和单元门禁。",
    ),
    ActivityPlan(
        "电动车飞线充电排查劝导",
        "safety",
        "{compound}",
        (19, 0),
        90,
        (5, 8),
        "排查楼道和窗口的飞线充电，劝导居民到集中充电桩充电。",
    ),
    ActivityPlan(
        "防范电信诈骗宣传",
        "safety",
        HALL + "门口",
        (9, 30),
        120,
        (6, 10),
        "发放防诈骗宣传册，帮老人手机安装国家反诈中心APP。",
    ),
    ActivityPlan(
        "老年人智能手机教学",
        "elderly",
        HALL + "二楼活动室",
        (14, 30),
        120,
        (6, 10),
        "一对一教老人用手机挂号、扫码乘车、视频通话和缴纳水电气费。",
    ),
    ActivityPlan(
        "独居老人上门探访",
        "elderly",
        "{compound}",
        (9, 30),
        150,
        (5, 8),
        "结对探访独居、空巢老人，陪聊、代购生活用品，了解需求并记录。",
    ),
    ActivityPlan(
        "义诊进社区·免费量血压测血糖",
        "health",
        HALL + "门前广场",
        (9, 0),
        180,
        (8, 12),
        "配合辖区医院医生义诊，志愿者负责排队引导、登记和量血压。",
        True,
    ),
    ActivityPlan(
        "健康讲座：高血压和糖尿病防治",
        "health",
        HALL + "二楼活动室",
        (14, 30),
        90,
        (6, 10),
        "邀请社区卫生服务中心医生讲慢病防治，志愿者负责签到、发资料和维持秩序。",
    ),
    ActivityPlan(
        "便民维修服务日",
        "repair",
        HALL + "门前广场",
        (9, 0),
        180,
        (6, 10),
        "家电维修、修伞磨刀、换拉链、修自行车，一律免费。",
        True,
    ),
    ActivityPlan(
        "家电义务维修进小区",
        "repair",
        "{compound}",
        (14, 0),
        150,
        (5, 8),
        "在小区摆摊为居民免费检修小家电，行动不便的上门服务。",
    ),
    ActivityPlan(
        "四点半课堂·作业辅导",
        "children",
        HALL + "四点半课堂",
        (16, 30),
        90,
        (5, 8),
        "放学后辅导小学生作业，组织阅读，等家长下班来接。",
        False,
    ),
    ActivityPlan(
        "社区读书会",
        "culture",
        HALL + "阅览室",
        (19, 0),
        90,
        (8, 15),
        "本月共读一本书，志愿者负责场地布置、签到和分享会主持。",
    ),
    ActivityPlan(
        "文明劝导·路口值守",
        "other",
        "{community}辖区建设路口",
        (7, 30),
        120,
        (6, 10),
        "早高峰在路口劝导电动车佩戴头盔、不闯红灯、不逆行。",
        False,
    ),
    ActivityPlan(
        "政策宣讲：养老保险和高龄津贴",
        "other",
        HALL + "二楼活动室",
        (14, 30),
        90,
        (6, 10),
        "讲解城乡居民养老保险续缴和高龄津贴申领，志愿者帮老人填表。",
    ),
    ActivityPlan(
        "清理楼道堆放杂物",
        "environment",
        "{compound}",
        (9, 0),
        120,
        (6, 10),
        "逐栋清理楼道堆放的纸箱、旧家具，保持消防通道畅通。",
        True,
    ),
)

# Happening while the demo is seeded, by the local hour it starts (whatever the time of day).
LIVE = (
    (range(0, 6), ActivityPlan("夜间平安巡逻", "safety", "{compound}", (0, 0), 180, (6, 8), EVERYDAY[2].description)),
    (range(6, 11), EVERYDAY[9]._replace(places=(8, 10))),
    (range(11, 17), EVERYDAY[5]._replace(places=(8, 10))),
    (range(17, 24), EVERYDAY[2]._replace(places=(6, 8))),
)

CANCEL_REASON = "天气预报当天有大到暴雨，为安全起见活动取消，改期另行通知。"
CORRECT_REASON = "忘记签退，系统按活动结束时间签退；经与本人核实，按实际离开时间更正。"


class ProjectPlan(NamedTuple):
    kind: str  # project or post
    title: str
    description: str
    capacity: tuple[int, int]
    months: tuple[int, int] | None  # first and last month of the period this year; None: all year


PROJECTS = (
    ProjectPlan(
        "post",
        "楼栋长",
        "联系本楼栋住户，收集诉求、传达社区通知，每月至少走访一次独居老人。",
        (4, 8),
        None,
    ),
    ProjectPlan("post", "文明劝导岗", "早晚高峰在小区门口和路口劝导文明出行，每周至少值守一次。", (4, 6), None),
    ProjectPlan("post", "垃圾分类督导岗", "在投放点指导居民分类投放，记录混投情况。每周两次。", (3, 6), None),
    ProjectPlan("post", "平安巡逻岗", "参加夜间平安巡逻队，每周一次，每次约两小时。", (4, 8), None),
    ProjectPlan("project", "助老陪伴·结对独居老人", "和一位独居老人结对，每周探访或电话问候，陪同就医。", (3, 6), None),
    ProjectPlan("project", "四点半课堂", "放学后辅导小学生作业、组织阅读，每周至少一个下午。", (3, 5), (3, 12)),
    ProjectPlan("project", "暑期托管小课堂", "暑假期间上午托管双职工家庭的孩子。", (3, 5), (7, 8)),
    ProjectPlan("project", "政策宣讲小分队", "结合本职工作，给居民讲解医保、养老、税费等政策。", (2, 4), None),
    ProjectPlan("project", "家电义务维修队", "每月一次便民维修，平时接独居老人的上门维修单。", (2, 4), None),
    ProjectPlan("project", "社区读书角管理", "整理图书、登记借还，每月组织一次读书会。", (2, 3), (2, 12)),
    ProjectPlan("post", "网格信息员助理", "协助网格员采集更新住户信息，入户走访。", (2, 4), (4, 12)),
)


class ResourcePlan(NamedTuple):
    kind: str  # venue, goods or skill
    title: str
    description: str
    availability: str


# By unit number (from 1, as in layout.UNITS): what each unit can offer a community.
UNIT_RESOURCES = {
    1: (
        ResourcePlan(
            "skill", "用电安全检查和线路检修", "党员电工上门检查独居老人家中线路、插座和电表箱。", "每月第一个周六"
        ),
        ResourcePlan(
            "venue",
            "供电中心党员活动室",
            "可容纳40人，有投影和音响，可借用开会、培训。",
            "工作日晚上、周末，提前3天预约",
        ),
    ),
    2: (
        ResourcePlan(
            "skill", "税费政策咨询", "个税汇算、社保缴费等政策咨询，帮居民在手机上办理。", "每月第二个周三下午"
        ),
        ResourcePlan(
            "goods", "米面油（积分超市捐赠）", "每季度捐赠大米、面条、菜籽油各50份，放入积分兑换超市。", "每季度初"
        ),
    ),
    3: (
        ResourcePlan(
            "venue", "府青路中学运动场", "周末对居民开放，可举办社区运动会、亲子活动。", "周六、周日 8:00-18:00"
        ),
        ResourcePlan("skill", "学生志愿者课后辅导", "高年级学生志愿者到四点半课堂辅导作业。", "学期内每周二、四"),
    ),
    4: (
        ResourcePlan(
            "skill", "义诊和健康咨询", "医生到社区义诊，量血压、测血糖、解答用药问题。", "每季度一次，周六上午"
        ),
        ResourcePlan("skill", "慢病随访", "家庭医生团队对高血压、糖尿病患者定期随访。", "每月"),
    ),
    5: (
        ResourcePlan("goods", "生活用品（积分超市捐赠）", "洗衣液、纸巾、毛巾等生活用品。", "每半年"),
        ResourcePlan("skill", "金融知识和防诈骗宣传", "讲解防范电信诈骗、识别假币和非法集资。", "每两个月一次"),
    ),
    6: (
        ResourcePlan("venue", "工行网点二楼会议室", "可容纳20人，可作为院落议事会场所。", "工作日 17:30 以后"),
        ResourcePlan("skill", "适老化金融服务", "上门为行动不便的老人办理社保卡激活、密码重置。", "预约后三个工作日内"),
    ),
    7: (
        ResourcePlan("skill", "食品安全知识讲座", "讲解食品标签识别、保健品虚假宣传。", "每季度一次"),
        ResourcePlan("skill", "电子秤免费检定", "为小区周边菜市场和居民的电子秤免费检定。", "每年3月、9月"),
    ),
    8: (
        ResourcePlan("goods", "文具礼包", "笔、本子、书包等，用于四点半课堂和困难家庭学生。", "每学期开学前"),
        ResourcePlan("skill", "邮件代寄和代缴服务", "帮老人代寄邮件、代缴水电气费。", "工作日"),
    ),
    9: (
        ResourcePlan("skill", "党员司机文明劝导", "党员司机参与路口文明劝导和交通安全宣传。", "每月一次，早高峰"),
        ResourcePlan("venue", "公交场站培训室", "可容纳30人，可借用开展培训。", "周末，提前一周预约"),
    ),
    10: (
        ResourcePlan("venue", "猛追湾小学多功能教室", "可容纳50人，假期可借用开展暑期托管。", "寒暑假"),
        ResourcePlan("goods", "图书捐赠", "为社区读书角捐赠少儿图书。", "每学期一次"),
    ),
}
# Offered by people and groups that are not units of the area (unit left empty).
OTHER_RESOURCES = (
    ResourcePlan(
        "skill", "法律咨询（社区法律顾问）", "律师每月坐班，解答婚姻家庭、物业纠纷等法律问题。", "每月最后一个周五下午"
    ),
    ResourcePlan("skill", "家电维修（居民志愿服务队）", "退休电工组成的维修队，免费修小家电。", "每周六上午"),
    ResourcePlan("venue", "社区党群服务中心二楼活动室", "可容纳60人，居民活动、议事会可预约使用。", "每天 9:00-21:00"),
    ResourcePlan("skill", "义务理发", "理发店党员师傅为老人免费理发。", "每月15日上午"),
)
RESOURCE_CONTACTS = ("王老师", "李经理", "张主任", "刘书记", "陈师傅", "杨医生", "赵律师")


class NeedPlan(NamedTuple):
    category: str
    description: str
    title: str  # the order the steward makes of it
    minutes: tuple[int, int]
    places: int
    note: str  # what the volunteer writes when done


NEEDS = (
    NeedPlan(
        "elderly",
        "母亲82岁独居，腿脚不便，下周要去医院复查，我在外地上班回不来，想请志愿者陪同。",
        "陪同独居老人到医院复查",
        (150, 240),
        1,
        "陪同老人挂号、复查、取药，已安全送回家，复查结果正常。",
    ),
    NeedPlan(
        "elderly",
        "家里老人不会用智能手机，想请人上门教一下视频通话和扫码。",
        "上门教老人使用智能手机",
        (60, 90),
        1,
        "教会了微信视频通话和扫健康码，写了一张步骤卡片贴在桌上。",
    ),
    NeedPlan(
        "elderly",
        "父亲卧床，家里要换一张护理床，需要两三个人帮忙搬运。",
        "帮助卧床老人家搬运护理床",
        (60, 120),
        3,
        "三人一起把旧床拆下、新护理床搬上楼装好，老人已躺上试用。",
    ),
    NeedPlan(
        "repair",
        "厨房水龙头一直滴水，物业说入户维修不归他们管，想请人帮忙换一个。",
        "上门更换厨房水龙头",
        (45, 90),
        1,
        "已更换新水龙头，试用不漏水，旧件已带走。",
    ),
    NeedPlan(
        "repair",
        "卫生间的灯不亮了，家里只有两个老人，不敢爬高换灯泡。",
        "上门更换卫生间灯泡",
        (30, 60),
        1,
        "已更换LED灯泡，顺便检查了开关和插座，都正常。",
    ),
    NeedPlan(
        "repair",
        "家里老式电视机没有图像，只有声音，能不能请志愿者看看。",
        "上门检修电视机",
        (60, 120),
        1,
        "机顶盒连接线松了，重新接好并调好频道。",
    ),
    NeedPlan(
        "children",
        "孩子读四年级，我们夫妻下班都晚，希望放学后有人辅导数学作业。",
        "四年级学生课后作业辅导",
        (90, 120),
        1,
        "辅导完成数学作业，讲了两道错题，约定下周再来。",
    ),
    NeedPlan(
        "environment",
        "5栋2单元楼道堆了很多纸箱和旧家具，存在消防隐患，希望组织清理。",
        "清理楼道堆放杂物",
        (90, 150),
        3,
        "和住户沟通后清理了楼道纸箱和旧家具，消防通道已畅通。",
    ),
    NeedPlan(
        "environment",
        "中心花园垃圾桶旁边经常有混投的垃圾，气味很大，希望加强督导。",
        "中心花园垃圾分类督导",
        (60, 90),
        2,
        "早晚在投放点督导两次，二次分拣，张贴了分类指引。",
    ),
    NeedPlan(
        "safety",
        "楼下有人从窗户拉电线给电动车充电，很危险，希望有人来劝导。",
        "劝导电动车飞线充电",
        (45, 90),
        2,
        "已上门劝导，住户拆除了飞线，改到集中充电桩充电。",
    ),
    NeedPlan(
        "safety",
        "单元门禁坏了一周，晚上陌生人随便进出，希望帮忙协调维修。",
        "协调维修单元门禁",
        (30, 60),
        1,
        "已联系物业报修并跟进，门禁修好，试用正常。",
    ),
    NeedPlan(
        "health",
        "父亲有高血压，想请人上门量血压，讲讲用药的注意事项。",
        "上门量血压和用药指导",
        (45, 60),
        1,
        "量了血压（偏高），提醒按时服药、少盐，建议到社区卫生服务中心复诊。",
    ),
    NeedPlan(
        "other",
        "不会在手机上交水电气费，每次都要跑营业厅，想请人教一下。",
        "教老人手机缴纳水电气费",
        (45, 60),
        1,
        "帮老人绑定了缴费账户，教会了在手机上查询和缴费。",
    ),
    NeedPlan(
        "other",
        "想申请高龄津贴，表格看不太懂，需要有人帮忙填写和提交。",
        "协助填写高龄津贴申请表",
        (45, 90),
        1,
        "协助填写申请表并复印身份证、户口本，已交到社区便民服务窗口。",
    ),
)
PREFERRED = ("周末上午", "工作日下午3点以后", "越快越好", "下周三上午", "晚上7点以后", "")
# Orders the community raises itself (no resident behind them).
COMMUNITY_ORDERS = (
    NeedPlan(
        "elderly",
        "8栋独居的周婆婆术后行动不便，社区安排每周两次上门送餐。",
        "为术后独居老人送餐",
        (30, 60),
        1,
        "按时送餐，老人精神不错，伤口恢复良好。",
    ),
    NeedPlan(
        "other",
        "社区疫苗接种点需要志愿者维持秩序、引导老人填表。",
        "疫苗接种点秩序维护",
        (150, 210),
        3,
        "引导老人排队填表，协助测体温，现场秩序良好。",
    ),
    NeedPlan(
        "environment",
        "河滨步道绿化带垃圾较多，组织党员志愿者清理。",
        "河滨步道绿化带垃圾清理",
        (90, 150),
        3,
        "清理绿化带垃圾十余袋，拔除杂草。",
    ),
)
DECLINE_REASONS = (
    "该事项属于物业服务范围，已转交物业公司处理，请留意物业通知。",
    "超出志愿服务范围，建议联系专业维修公司（可到社区领取推荐名单）。",
    "已由网格员直接上门处理，不再派单。",
)
CANCEL_ORDER_REASONS = ("居民家属已自行处理，取消订单。", "老人近期住院，服务暂停，出院后重新下单。")
FEEDBACK = {
    5: ("志愿者很耐心，谢谢社区！", "来得很准时，服务很好。", "解决了大问题，非常感谢！", ""),
    4: ("服务不错，就是比约定时间晚了一点。", "挺好的，谢谢。", ""),
    3: ("问题解决了，但沟通可以再细致一些。", ""),
}
DISPUTE_REASONS = ("志愿者只来了一半时间就走了，事情没有办完。", "水龙头换完第二天又开始漏水。")
RESOLVE_UPHELD = "经电话回访和现场查看，服务已按约完成，已向居民解释清楚。"
RESOLVE_CLOSED = "经核实服务未完成，关闭订单，另行安排志愿者处理。"

SELF_STORIES = (
    "在小区门口做文明劝导，劝导电动车佩戴头盔二十余人次。",
    "协助网格员入户走访独居老人3户，记录需求。",
    "帮楼里的独居老人代买米面和药品。",
    "参加街道组织的河道巡河护河志愿活动。",
    "协助社区在小区张贴燃气安全告知书。",
    "为楼栋居民群转发社区通知，收集加装电梯意见。",
)
PROJECT_STORIES = (
    "{title}：本周按时值守，记录情况已交社区。",
    "{title}：走访联系住户，反映的问题已报社区。",
    "{title}：完成本周服务。",
)
LONG_STORY = "全天协助社区筹备和开展居民运动会，负责场地布置、检录和收尾。"
STEWARD_STORIES = (  # (what the steward writes, kind of service)
    ("补录：社区运动会志愿服务（纸质签到表）", "activity"),
    ("补录：协助疫苗接种点秩序维护", "other"),
    ("补录：春节慰问困难家庭物资搬运", "activity"),
    ("补录：防汛值守（纸质值班记录）", "other"),
)
REJECT_REASONS = (
    "与已登记的活动签到记录重复，不重复计入。",
    "未能提供照片或组织人证明，请补充后重新申报。",
    "该服务在其他社区开展，请向服务所在社区申报。",
)
