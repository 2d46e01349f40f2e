"""The category tree every deployment starts from: incidents (城市部件 and 事件), resident demands
(诉求), one-window service items (一窗受理), mediation (矛盾纠纷调解) and supervision findings
(督查整改), with their attribute schemas, SLA limits and routing, and the year's holidays.

`seed_categories()` is idempotent and never overwrites: a code that exists is left exactly as
an administrator has made it (its attributes, limits and routing included); only missing codes
are created, each with its schema and rules. Running it twice changes nothing.

SLA figures: filing and dispatch within 30 minutes (10 when urgent), verification within 2 hours
(1 hour when urgent) — Taiyuan's limits in DOMAIN.md; handling limits per category. One-window
items count working hours: their handling limit is their time limit in working days.
"""

import datetime as dt

from django.db import transaction

from .. import access
from ..models import Category, CategoryAttribute, Datatype, HandlerLevel, Holiday, Kind, RoutingRule, SlaRule, Stage
from .sla import minutes_per_working_day

DAY = 24 * 60
FILE, DISPATCH, HANDLE, VERIFY = Stage.FILE, Stage.DISPATCH, Stage.HANDLE, Stage.VERIFY
# Taiyuan (DOMAIN.md): file and dispatch 30 min / 10 min urgent; verify 2 h / 1 h urgent.
TAIYUAN = {FILE: (30, 10), DISPATCH: (30, 10), VERIFY: (120, 60)}


def _choices(*pairs):
    return [{"key": k, "name": n} for k, n in pairs]


def attribute(code, description, datatype=Datatype.STRING, required=False, values=()):
    """One question of a category's attribute schema (a row of the tables below)."""
    return {"code": code, "description": description, "datatype": datatype, "required": required, "values": _choices(*values)}


YES_NO = (("yes", "是"), ("no", "否"))

# ------------------------------------------------------------------ incidents (城市部件 and 事件)
# (code, name, handle minutes, urgent handle minutes, flags, attributes)
ENVIRONMENT = [
    ("env.litter", "暴露垃圾", 4 * 60, 60, {"keywords": "垃圾 清运 垃圾桶满溢"}, [
        attribute("amount", "垃圾量", Datatype.SINGLEVALUELIST, True, (("small", "少量（一袋以内）"), ("cart", "一车以内"), ("large", "大量"))),
        attribute("bags", "约多少袋", Datatype.NUMBER),
    ]),
    ("env.materials", "乱堆物料", DAY, 4 * 60, {"keywords": "建筑垃圾 装修垃圾 杂物 堆放"}, [
        attribute("material", "堆放物", Datatype.SINGLEVALUELIST, True, (("construction", "建筑垃圾"), ("decoration", "装修材料"), ("sundries", "杂物"))),
        attribute("area", "占地面积（平方米）", Datatype.NUMBER),
    ]),
    ("env.vending", "占道经营", 2 * 60, 60, {"keywords": "摊贩 出店经营 夜市"}, [
        attribute("vendor", "经营形式", Datatype.SINGLEVALUELIST, True, (("mobile", "流动摊贩"), ("shopfront", "店外经营"), ("night", "夜市摊点"))),
    ]),
    ("env.posting", "违规张贴", DAY, 4 * 60, {"keywords": "小广告 牛皮癣 涂写"}, [
        attribute("surface", "张贴位置", Datatype.MULTIVALUELIST, False, (("wall", "墙面"), ("pole", "电线杆"), ("stair", "楼道"), ("vehicle", "车辆"))),
    ]),
]
SAFETY = [
    ("safety.fire_lane", "消防通道堵塞", 2 * 60, 30, {"settle_on_spot": True, "keywords": "消防 占用 堵塞"}, [
        attribute("blocked_by", "被什么堵塞", Datatype.SINGLEVALUELIST, True, (("car", "车辆"), ("sundries", "杂物"), ("lock", "地锁/围挡"))),
    ]),
    ("safety.ebike", "电动车楼道充电", 4 * 60, 60, {"keywords": "电动车 飞线充电 楼道 电瓶"}, [
        attribute("floor", "所在楼层", Datatype.NUMBER),
        attribute("count", "车辆数", Datatype.NUMBER),
    ]),
    ("safety.gas", "燃气隐患", 60, 30, {"settle_on_spot": False, "keywords": "煤气 燃气 泄漏 气味"}, [
        attribute("smell", "是否闻到燃气味", Datatype.SINGLEVALUELIST, True, YES_NO),
        attribute("spot", "具体位置", Datatype.STRING),
    ]),
    ("safety.building", "危房", DAY, 4 * 60, {"settle_on_spot": False, "keywords": "裂缝 倾斜 危房 墙体"}, [
        attribute("occupied", "是否有人居住", Datatype.SINGLEVALUELIST, True, YES_NO),
        attribute("damage", "损坏情况", Datatype.TEXT),
    ]),
    # 三必 must-report: any other hazard a grid worker finds goes to the community at once.
    ("safety.hazard", "其他安全隐患", 4 * 60, 60, {"settle_on_spot": False, "keywords": "隐患 安全 危险 三必"}, [
        attribute("risk", "危险程度", Datatype.SINGLEVALUELIST, False, (("low", "一般"), ("high", "较大"), ("severe", "重大"))),
    ]),
]
FACILITIES = [
    ("facility.road", "道路破损", 3 * DAY, 8 * 60, {"settle_on_spot": False, "keywords": "坑洼 路面 破损 塌陷"}, [
        attribute("size", "破损面积", Datatype.SINGLEVALUELIST, True, (("small", "1平方米以内"), ("medium", "1至5平方米"), ("large", "5平方米以上"))),
    ]),
    ("facility.manhole", "井盖缺失", 4 * 60, 60, {"settle_on_spot": False, "keywords": "井盖 窨井 缺失 破损"}, [
        attribute("road", "所在位置", Datatype.SINGLEVALUELIST, True, (("carriageway", "机动车道"), ("sidewalk", "人行道"), ("estate", "小区内"))),
    ]),
    ("facility.streetlight", "路灯不亮", 3 * DAY, DAY, {"settle_on_spot": False, "keywords": "路灯 照明 灯杆"}, [
        attribute("count", "不亮的盏数", Datatype.NUMBER),
        attribute("pole", "灯杆编号", Datatype.STRING),
    ]),
    ("facility.sewer", "下水道堵塞", DAY, 4 * 60, {"settle_on_spot": False, "keywords": "下水道 堵塞 污水 外溢 化粪池"}, [
        attribute("overflow", "是否外溢", Datatype.SINGLEVALUELIST, True, YES_NO),
    ]),
    ("facility.elevator", "电梯故障", 4 * 60, 60, {"settle_on_spot": False, "keywords": "电梯 困人 停运"}, [
        attribute("trapped", "是否有人被困", Datatype.SINGLEVALUELIST, True, (("yes", "有人被困"), ("no", "无人被困"))),
        attribute("building", "楼栋单元", Datatype.STRING),
    ]),
]
ORDER = [
    ("order.noise", "噪音扰民", 2 * 60, 60, {"keywords": "噪音 装修 广场舞 夜间"}, [
        attribute("source", "噪音来源", Datatype.SINGLEVALUELIST, True, (("renovation", "装修"), ("shop", "商铺"), ("dance", "广场舞"), ("pet", "宠物"), ("other", "其他"))),
        attribute("night", "是否夜间（22时后）", Datatype.SINGLEVALUELIST, False, YES_NO),
    ]),
    ("order.illegal_building", "违章搭建", 5 * DAY, DAY, {"settle_on_spot": False, "keywords": "违建 搭建 加层 阳光房"}, [
        attribute("phase", "建设状态", Datatype.SINGLEVALUELIST, True, (("building", "在建"), ("built", "已建成"))),
        attribute("area", "面积（平方米）", Datatype.NUMBER),
    ]),
    ("order.group_rental", "群租房", 3 * DAY, DAY, {"settle_on_spot": False, "keywords": "群租 隔断 出租"}, [
        attribute("people", "约住多少人", Datatype.NUMBER),
    ]),
]

# ------------------------------------------------------------------ resident demands (诉求)
DEMANDS = [
    ("demand.property", "物业服务", [attribute("estate", "小区名称", Datatype.STRING)]),
    ("demand.parking", "停车", [attribute("issue", "问题类型", Datatype.SINGLEVALUELIST, False, (("spaces", "车位不足"), ("charging", "充电桩"), ("order", "停车秩序")))]),
    ("demand.elevator", "加装电梯", [attribute("building", "楼栋", Datatype.STRING, True), attribute("households", "同意户数", Datatype.NUMBER)]),
    ("demand.hardship", "困难求助", [attribute("need", "需要的帮助", Datatype.MULTIVALUELIST, False, (("money", "经济困难"), ("care", "生活照料"), ("medical", "就医"), ("school", "子女就学")))]),
    ("demand.policy", "政策咨询", []),
    ("demand.suggestion", "意见建议", []),
]

# ------------------------------------------------------------------ one-window items (一窗受理)
# (group code, group name, [(code, name, materials, days, unit, channel, service type, attributes)])
ID = "申请人身份证"
HUKOU = "户口簿"
PHOTO = "近期一寸免冠照片"
SERVICES = [
    ("svc.residence", "户籍与居住", [
        ("svc.residence_permit", "居住证办理", [ID, "居住证申领登记表", "合法稳定住所证明（租房合同或房产证）", "就业或就读证明", PHOTO], 15, "派出所", "both", "public",
         [attribute("address", "居住地址", Datatype.STRING, True)]),
        ("svc.residence_proof", "开具居住证明", [ID, HUKOU, "房产证或租房合同"], 1, "社区居委会", "window", "public",
         [attribute("purpose", "证明用途", Datatype.STRING, True)]),
        ("svc.household_split", "分户证明", [ID, HUKOU, "房产证", "分户申请书"], 5, "派出所", "window", "public", []),
        ("svc.temp_id", "临时身份证明", [HUKOU, PHOTO], 1, "派出所", "window", "public", []),
    ]),
    ("svc.social_security", "社会保障", [
        ("svc.medical_insurance", "城乡居民医保参保登记", [ID, HUKOU, "居住证（非本地户籍）"], 5, "街道社保所", "both", "public",
         [attribute("group", "参保人群", Datatype.SINGLEVALUELIST, True, (("adult", "成年居民"), ("student", "学生儿童"), ("elderly", "老年人")))]),
        ("svc.pension_insurance", "城乡居民养老保险参保登记", [ID, HUKOU], 5, "街道社保所", "both", "public", []),
        ("svc.pension_certification", "养老金领取资格认证", [ID], 1, "街道社保所", "both", "public", []),
        ("svc.medical_reimbursement", "医疗费用零星报销", [ID, "社保卡", "医疗费用发票", "费用清单", "出院小结"], 20, "医保中心", "window", "public", []),
    ]),
    ("svc.civil_affairs", "民政救助", [
        ("svc.dibao", "低保申请", [ID, HUKOU, "家庭收入证明", "家庭财产申报表", "低保申请书", "银行卡"], 30, "街道社会事务办", "window", "public",
         [attribute("household_size", "家庭人口", Datatype.NUMBER, True), attribute("monthly_income", "家庭月收入（元）", Datatype.NUMBER)]),
        ("svc.temporary_relief", "临时救助申请", [ID, HUKOU, "临时救助申请书", "困难情况证明（医疗发票、事故证明等）"], 10, "街道社会事务办", "window", "public",
         [attribute("cause", "困难原因", Datatype.SINGLEVALUELIST, True, (("illness", "重大疾病"), ("accident", "意外事故"), ("disaster", "灾害"), ("other", "其他")))]),
        ("svc.extreme_poverty", "特困人员供养申请", [ID, HUKOU, "特困供养申请书", "劳动能力鉴定或残疾人证"], 30, "街道社会事务办", "window", "public", []),
        ("svc.disability_card", "残疾人证申领", [ID, HUKOU, "二寸免冠照片3张", "残疾评定表"], 20, "区残联", "window", "public",
         [attribute("disability", "残疾类别", Datatype.SINGLEVALUELIST, True, (("vision", "视力"), ("hearing", "听力"), ("speech", "言语"), ("physical", "肢体"), ("intellectual", "智力"), ("mental", "精神"), ("multiple", "多重")))]),
        ("svc.disability_subsidy", "困难残疾人生活补贴申请", [ID, "残疾人证", "低保证或低收入证明", "银行卡"], 15, "街道残联", "window", "public", []),
    ]),
    ("svc.elderly", "养老服务", [
        ("svc.longevity_allowance", "高龄津贴申领", [ID, HUKOU, "银行卡"], 15, "街道社会事务办", "both", "public",
         [attribute("age_band", "年龄段", Datatype.SINGLEVALUELIST, True, (("80", "80至89周岁"), ("90", "90至99周岁"), ("100", "100周岁以上")))]),
        ("svc.senior_card", "老年优待证", [ID, PHOTO], 5, "区老龄办", "both", "public", []),
        ("svc.elderly_care_subsidy", "养老服务补贴", [ID, HUKOU, "能力评估表", "低保证或特困证明（如有）"], 20, "街道社会事务办", "window", "public",
         [attribute("care_level", "照护等级", Datatype.SINGLEVALUELIST, False, (("1", "轻度失能"), ("2", "中度失能"), ("3", "重度失能")))]),
        ("svc.meal_help", "助餐资格申请", [ID, "户口簿或居住证", "低保证、残疾人证或特困证明（如有）"], 5, "社区居委会", "both", "social",
         [attribute("canteen", "就餐点", Datatype.STRING)]),
        ("svc.home_care", "居家养老上门服务预约", [ID], 3, "社区养老服务站", "both", "social", []),
    ]),
    ("svc.family", "生育与家庭", [
        ("svc.birth_registration", "生育登记", [ID, "结婚证", "户口簿"], 1, "街道卫健办", "both", "public",
         [attribute("child_order", "孩次", Datatype.SINGLEVALUELIST, True, (("1", "一孩"), ("2", "二孩"), ("3", "三孩及以上")))]),
        ("svc.only_child_certificate", "独生子女父母光荣证", [ID, "结婚证", HUKOU, "子女出生医学证明"], 10, "街道卫健办", "window", "public", []),
        ("svc.family_planning_reward", "计划生育家庭奖励扶助申请", [ID, HUKOU, "独生子女父母光荣证", "银行卡"], 20, "街道卫健办", "window", "public", []),
        ("svc.marriage_certificate_copy", "婚姻状况证明材料代办", [ID, HUKOU], 5, "区民政局婚姻登记处", "window", "public", []),
    ]),
    ("svc.employment", "就业创业", [
        ("svc.employment_registration", "就业失业登记", [ID, "劳动合同或解除劳动关系证明"], 1, "街道劳动保障所", "both", "public",
         [attribute("kind", "登记类型", Datatype.SINGLEVALUELIST, True, (("employment", "就业登记"), ("unemployment", "失业登记")))]),
        ("svc.startup_subsidy", "一次性创业补贴申请", [ID, "营业执照", "场地租赁合同", "银行卡"], 20, "区人社局", "window", "public", []),
        ("svc.job_referral", "公益性岗位申请", [ID, "就业困难人员认定表"], 10, "街道劳动保障所", "window", "public", []),
    ]),
    ("svc.veterans", "退役军人服务", [
        ("svc.veteran_benefits", "退役军人优待", [ID, "退役证件", "户口簿"], 10, "街道退役军人服务站", "window", "public", []),
        ("svc.veteran_relief", "退役军人帮扶援助申请", [ID, "退役证件", "困难情况说明"], 15, "区退役军人事务局", "window", "public", []),
    ]),
    ("svc.community", "社区服务", [
        ("svc.room_booking", "党群服务中心场地预约", [ID, "活动方案"], 2, "社区居委会", "online", "social", []),
        ("svc.volunteer_registration", "志愿者注册", [ID], 1, "社区居委会", "online", "social", []),
        ("svc.housekeeping_referral", "家政服务对接", [ID], 3, "社区居委会", "both", "market", []),
    ]),
]

# ------------------------------------------------------------------ mediation and supervision
MEDIATION = [
    ("mediation.family", "婚姻家庭纠纷"),
    ("mediation.neighbour", "邻里纠纷"),
    ("mediation.property", "物业纠纷"),
    ("mediation.housing", "房屋宅基地纠纷"),
    ("mediation.labour", "劳动争议"),
    ("mediation.consumer", "消费纠纷"),
    ("mediation.other", "其他纠纷"),
]
MEDIATION_ATTRIBUTES = [attribute("parties", "当事人人数", Datatype.NUMBER), attribute("amount", "争议金额（元）", Datatype.NUMBER)]
SUPERVISION = [
    ("supervision.environment", "环境卫生整改"),
    ("supervision.safety", "安全隐患整改"),
    ("supervision.service", "服务作风整改"),
    ("supervision.task", "任务落实整改"),
]
SUPERVISION_ATTRIBUTES = [
    attribute("found_by", "发现方式", Datatype.SINGLEVALUELIST, True, (("inspection", "明察"), ("undercover", "暗访"), ("complaint", "群众举报"), ("audit", "数据比对"))),
]

# ------------------------------------------------------------------ holidays (2026, State Council notice)
HOLIDAYS_2026 = [
    ("2026-01-01", "2026-01-03", "元旦"),
    ("2026-02-15", "2026-02-23", "春节"),
    ("2026-04-04", "2026-04-06", "清明节"),
    ("2026-05-01", "2026-05-05", "劳动节"),
    ("2026-06-19", "2026-06-21", "端午节"),
    ("2026-09-25", "2026-09-27", "中秋节"),
    ("2026-10-01", "2026-10-07", "国庆节"),
]
WORKDAYS_2026 = [  # 调休: weekend days that are working days
    ("2026-01-04", "元旦调休"),
    ("2026-02-14", "春节调休"),
    ("2026-02-28", "春节调休"),
    ("2026-05-09", "劳动节调休"),
    ("2026-09-20", "国庆节调休"),
    ("2026-10-10", "国庆节调休"),
]


class _Seeder:
    def __init__(self):
        self.existing = {c.code: c for c in Category.objects.all()}
        self.created = {"categories": 0, "attributes": 0, "sla_rules": 0, "routing_rules": 0, "holidays": 0}
        self.sort = 0

    def category(self, code, name, kind, parent=None, *, attributes=(), sla=None, route=None, **fields) -> tuple[Category, bool]:
        """The category with this code; created (with its schema and rules) only when missing."""
        self.sort += 10
        found = self.existing.get(code)
        if found is not None:
            return found, False
        cat = Category.objects.create(code=code, name=name, kind=kind, parent=parent, sort=self.sort, **fields)
        self.existing[code] = cat
        self.created["categories"] += 1
        for i, a in enumerate(attributes, start=1):
            CategoryAttribute.objects.create(category=cat, order=i, **a)
            self.created["attributes"] += 1
        for stage, (minutes, urgent) in (sla or {}).items():
            SlaRule.objects.create(category=cat, stage=stage, minutes=minutes, urgent_minutes=urgent)
            self.created["sla_rules"] += 1
        if route is not None:
            level, department = route
            RoutingRule.objects.create(category=cat, level=level, department=department)
            self.created["routing_rules"] += 1
        return cat, True

    def group(self, code, name, kind, parent=None, **kw):
        return self.category(code, name, kind, parent, is_group=True, **kw)[0]


@transaction.atomic
def seed_categories() -> dict:
    """Create what is missing of the standard category tree; returns counts of rows created."""
    seeder = _Seeder()
    community = (HandlerLevel.COMMUNITY, "")

    # 城市部件: facilities belong to the departments that own them, dispatched by the street.
    part = seeder.group("part", "城市部件", Kind.INCIDENT, sla={**TAIYUAN, HANDLE: (3 * DAY, 8 * 60)}, route=(HandlerLevel.STREET, "住建局"))
    for code, name, handle, urgent, flags, attributes in FACILITIES:
        department = {"facility.streetlight": "城管局", "facility.manhole": "城管局"}.get(code, "住建局")
        route = (HandlerLevel.COMMUNITY, "") if code == "facility.elevator" else (HandlerLevel.STREET, department)
        seeder.category(code, name, Kind.INCIDENT, part, attributes=attributes, sla={HANDLE: (handle, urgent)}, route=route, **flags)

    # 事件: environment and order stay in the community; disputes start in the grid.
    event = seeder.group("incident", "事件", Kind.INCIDENT, sla={**TAIYUAN, HANDLE: (2 * DAY, 4 * 60)}, route=community)
    for gcode, gname, rows in (("env", "市容环境", ENVIRONMENT), ("safety", "安全隐患", SAFETY), ("order", "秩序", ORDER)):
        grp = seeder.group(gcode, gname, Kind.INCIDENT, event)
        for code, name, handle, urgent, flags, attributes in rows:
            seeder.category(code, name, Kind.INCIDENT, grp, attributes=attributes, sla={HANDLE: (handle, urgent)}, **flags)
    seeder.category(
        "incident.dispute", "邻里纠纷", Kind.INCIDENT, event, must_attend=True, keywords="纠纷 吵架 矛盾 漏水 噪音",
        attributes=[attribute("parties", "涉及几户", Datatype.NUMBER), attribute("cause", "起因", Datatype.SINGLEVALUELIST, False, (
            ("noise", "噪音"), ("leak", "漏水"), ("space", "公共空间占用"), ("pet", "宠物"), ("other", "其他")))],
        sla={HANDLE: (DAY, 4 * 60)}, route=(HandlerLevel.GRID, ""),
    )
    seeder.category(
        "incident.emergency", "突发事件", Kind.INCIDENT, event, must_attend=True, settle_on_spot=False, keywords="火情 人员走失 停水 停电 突发",
        attributes=[
            attribute("type", "事件类型", Datatype.SINGLEVALUELIST, True, (("fire", "火情"), ("flood", "漏水积水"), ("outage", "停水停电"), ("missing", "人员走失"), ("other", "其他"))),
            attribute("injured", "是否有人员受伤", Datatype.SINGLEVALUELIST, True, YES_NO),
        ],
        sla={FILE: (10, 5), DISPATCH: (10, 5), HANDLE: (2 * 60, 60), VERIFY: (60, 30)}, route=community,
    )

    # 三必 must-report: a key person's arrival reaches the community within half an hour (filing)
    # and is followed up within a day.
    seeder.category(
        "incident.key_arrival", "重点人员到达", Kind.INCIDENT, event, settle_on_spot=False, keywords="重点人员 到达 来访 返回 三必",
        attributes=[
            attribute("person", "人员姓名", Datatype.STRING, True),
            attribute("from_place", "从何处来", Datatype.STRING, True),
            attribute("arrived_on", "到达时间", Datatype.DATETIME, True),
            attribute("kind", "人员类别", Datatype.SINGLEVALUELIST, False, (
                ("correction", "社区矫正"), ("released", "刑满释放"), ("drug", "吸毒人员"), ("mental", "严重精神障碍"), ("petition", "信访重点"), ("other", "其他"))),
        ],
        sla={FILE: (30, 10), DISPATCH: (30, 10), HANDLE: (DAY, 4 * 60), VERIFY: (2 * 60, 60)}, route=community,
    )

    # 诉求: resident demands, on the community's problem ledger.
    demand = seeder.group("demand", "居民诉求", Kind.DEMAND, sla={**TAIYUAN, HANDLE: (5 * DAY, DAY)}, route=community)
    for code, name, attributes in DEMANDS:
        seeder.category(code, name, Kind.DEMAND, demand, attributes=attributes, settle_on_spot=code in ("demand.policy", "demand.suggestion"))

    # 一窗受理: accepted at the community's window, counted in working hours.
    per_day = minutes_per_working_day()
    service = seeder.group("service", "一窗受理", Kind.SERVICE, working_hours=True, settle_on_spot=False,
                      sla={FILE: (30, 10), DISPATCH: (60, 30), HANDLE: (5 * per_day, per_day), VERIFY: (per_day, per_day // 2)}, route=community)
    for gcode, gname, items in SERVICES:
        grp = seeder.group(gcode, gname, Kind.SERVICE, service, working_hours=True, settle_on_spot=False)
        for code, name, materials, days, unit, channel, service_type, attributes in items:
            seeder.category(
                code, name, Kind.SERVICE, grp, attributes=attributes, working_hours=True, settle_on_spot=False,
                materials=materials, time_limit_days=days, handling_unit=unit, channel=channel, service_type=service_type,
                sla={HANDLE: (days * per_day, max(per_day, days * per_day // 2))},
            )

    # 矛盾纠纷调解: the community's people's mediation committee; 30 days to mediate.
    mediation = seeder.group("mediation", "矛盾纠纷调解", Kind.MEDIATION, settle_on_spot=False,
                        sla={FILE: (DAY, 4 * 60), DISPATCH: (DAY, 4 * 60), HANDLE: (30 * DAY, 7 * DAY), VERIFY: (DAY, 4 * 60)}, route=community)
    for code, name in MEDIATION:
        seeder.category(code, name, Kind.MEDIATION, mediation, attributes=MEDIATION_ATTRIBUTES, settle_on_spot=False,
                   must_attend=code == "mediation.neighbour")

    # 督查整改: findings of inspections, rectified under the street's eye.
    supervision = seeder.group("supervision", "督查整改", Kind.SUPERVISION, settle_on_spot=False,
                          sla={FILE: (60, 30), DISPATCH: (2 * 60, 60), HANDLE: (7 * DAY, 2 * DAY), VERIFY: (DAY, 4 * 60)},
                          route=(HandlerLevel.STREET, ""))
    for code, name in SUPERVISION:
        seeder.category(code, name, Kind.SUPERVISION, supervision, attributes=SUPERVISION_ATTRIBUTES, settle_on_spot=False)

    seeder.created["holidays"] = seed_holidays()
    return seeder.created


def seed_holidays() -> int:
    """The 2026 public holidays and swapped working days; a date already there is left alone."""
    existing = set(Holiday.objects.values_list("date", flat=True))
    rows = []
    for first, last, name in HOLIDAYS_2026:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            if day not in existing:
                rows.append(Holiday(date=day, working=False, name=name))
            day += dt.timedelta(days=1)
    for date, name in WORKDAYS_2026:
        day = dt.date.fromisoformat(date)
        if day not in existing:
            rows.append(Holiday(date=day, working=True, name=name))
    Holiday.objects.bulk_create(rows)
    if rows:
        access.kept_rules.changed()  # bulk_create sends no save signals
    return len(rows)
