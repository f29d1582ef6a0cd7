"""Word lists the demo generators combine into realistic Chinese and English records.

Every entry is plain text without tabs, newlines or backslashes, so rows built from it can be
streamed to PostgreSQL's ``COPY`` without escaping (the writer still escapes free text).
Names are fictional combinations; none is meant to be a real company.
"""

# Regions of China as sales organisations cut them, with cities: (Chinese, pinyin, area code).
REGIONS: dict[str, list[tuple[str, str, str]]] = {
    "华东": [
        ("上海", "Shanghai", "021"),
        ("杭州", "Hangzhou", "0571"),
        ("苏州", "Suzhou", "0512"),
        ("南京", "Nanjing", "025"),
        ("宁波", "Ningbo", "0574"),
        ("无锡", "Wuxi", "0510"),
        ("合肥", "Hefei", "0551"),
        ("济南", "Jinan", "0531"),
        ("青岛", "Qingdao", "0532"),
        ("厦门", "Xiamen", "0592"),
        ("福州", "Fuzhou", "0591"),
    ],
    "华北": [
        ("北京", "Beijing", "010"),
        ("天津", "Tianjin", "022"),
        ("石家庄", "Shijiazhuang", "0311"),
        ("太原", "Taiyuan", "0351"),
    ],
    "华南": [
        ("深圳", "Shenzhen", "0755"),
        ("广州", "Guangzhou", "020"),
        ("东莞", "Dongguan", "0769"),
        ("佛山", "Foshan", "0757"),
    ],
    "华中": [("武汉", "Wuhan", "027"), ("长沙", "Changsha", "0731"), ("郑州", "Zhengzhou", "0371")],
    "西南": [("成都", "Chengdu", "028"), ("重庆", "Chongqing", "023"), ("昆明", "Kunming", "0871")],
    "西北": [("西安", "Xi'an", "029"), ("兰州", "Lanzhou", "0931")],
    "东北": [("沈阳", "Shenyang", "024"), ("大连", "Dalian", "0411"), ("哈尔滨", "Harbin", "0451")],
}
# How many customers each region gets, relative to the others.
REGION_WEIGHTS = {"华东": 34, "华北": 18, "华南": 22, "华中": 9, "西南": 8, "西北": 4, "东北": 5}
REGION_ENGLISH = {
    "华东": "East China",
    "华北": "North China",
    "华南": "South China",
    "华中": "Central China",
    "西南": "Southwest",
    "西北": "Northwest",
    "东北": "Northeast",
}

# Brand syllables: a Chinese brand is one of the first list followed by one of the second.
BRAND_FIRST = [
    ("华", "hua"), ("恒", "heng"), ("宏", "hong"), ("鼎", "ding"), ("金", "jin"), ("瑞", "rui"),
    ("天", "tian"), ("永", "yong"), ("博", "bo"), ("新", "xin"), ("盛", "sheng"), ("海", "hai"),
    ("嘉", "jia"), ("明", "ming"), ("德", "de"), ("信", "xin"), ("伟", "wei"), ("东", "dong"),
    ("远", "yuan"), ("泰", "tai"), ("凯", "kai"), ("丰", "feng"), ("润", "run"), ("诚", "cheng"),
    ("安", "an"), ("长", "chang"), ("中", "zhong"), ("通", "tong"), ("百", "bai"), ("汇", "hui"),
    ("星", "xing"), ("辰", "chen"), ("锦", "jin"), ("鸿", "hong"), ("兴", "xing"), ("宇", "yu"),
    ("晨", "chen"), ("佳", "jia"), ("康", "kang"), ("启", "qi"),
]  # fmt: skip
BRAND_SECOND = [
    ("鑫", "xin"), ("通", "tong"), ("达", "da"), ("盛", "sheng"), ("辉", "hui"), ("丰", "feng"),
    ("成", "cheng"), ("泰", "tai"), ("远", "yuan"), ("锐", "rui"), ("世", "shi"), ("创", "chuang"),
    ("纳", "na"), ("禾", "he"), ("源", "yuan"), ("力", "li"), ("帆", "fan"), ("邦", "bang"),
    ("腾", "teng"), ("越", "yue"), ("峰", "feng"), ("祥", "xiang"), ("利", "li"), ("升", "sheng"),
    ("展", "zhan"), ("航", "hang"), ("美", "mei"), ("和", "he"), ("晟", "sheng"), ("合", "he"),
    ("品", "pin"), ("联", "lian"), ("威", "wei"), ("捷", "jie"), ("润", "run"), ("华", "hua"),
    ("信", "xin"), ("安", "an"), ("驰", "chi"), ("凯", "kai"),
]  # fmt: skip

# Line of business: (Chinese word, pinyin initials for web domains, English word, industry code).
BUSINESS_LINES = [
    ("精密机械", "jm", "Precision Machinery", "manufacturing"),
    ("机械制造", "jx", "Machinery", "manufacturing"),
    ("模具", "mj", "Moulds", "manufacturing"),
    ("五金制品", "wj", "Hardware", "manufacturing"),
    ("汽车零部件", "qp", "Auto Parts", "manufacturing"),
    ("电子元件", "dz", "Electronics", "manufacturing"),
    ("新材料", "xc", "Advanced Materials", "manufacturing"),
    ("化工", "hg", "Chemicals", "manufacturing"),
    ("包装材料", "bz", "Packaging", "manufacturing"),
    ("科技", "kj", "Technologies", "software"),
    ("信息技术", "it", "Information Technology", "software"),
    ("软件", "rj", "Software", "software"),
    ("网络科技", "wl", "Networks", "software"),
    ("数据科技", "sj", "Data", "software"),
    ("智能科技", "zn", "Intelligent Systems", "software"),
    ("云计算", "yun", "Cloud", "software"),
    ("投资管理", "tz", "Capital", "finance"),
    ("融资租赁", "zl", "Leasing", "finance"),
    ("资产管理", "zc", "Asset Management", "finance"),
    ("商贸", "sm", "Trading", "retail"),
    ("电子商务", "ds", "E-Commerce", "retail"),
    ("贸易", "my", "Import & Export", "retail"),
    ("连锁超市", "cs", "Retail", "retail"),
    ("医疗器械", "yl", "Medical Devices", "healthcare"),
    ("生物科技", "sw", "Biotech", "healthcare"),
    ("医药", "yy", "Pharma", "healthcare"),
    ("健康管理", "jk", "Health", "healthcare"),
    ("教育科技", "jy", "Learning", "education"),
    ("职业培训", "px", "Training", "education"),
    ("物流", "wuliu", "Logistics", "logistics"),
    ("供应链管理", "gyl", "Supply Chain", "logistics"),
    ("国际货运代理", "hy", "Freight", "logistics"),
    ("冷链运输", "ll", "Cold Chain", "logistics"),
    ("新能源", "ny", "New Energy", "energy"),
    ("能源科技", "nk", "Energy", "energy"),
    ("光伏科技", "gf", "Solar", "energy"),
    ("建筑工程", "jz", "Construction", "construction"),
    ("建材", "jc", "Building Materials", "construction"),
    ("装饰工程", "zs", "Interiors", "construction"),
    ("置业", "zy", "Properties", "construction"),
    ("文化传媒", "cm", "Media", "media"),
    ("广告", "gg", "Advertising", "media"),
    ("影视传媒", "ys", "Studios", "media"),
    ("餐饮管理", "cy", "Catering", "other"),
    ("咨询", "zx", "Consulting", "other"),
]
CHINESE_LEGAL_FORMS = ["有限公司"] * 6 + ["股份有限公司", "有限责任公司", "集团有限公司"]

ENGLISH_PREFIXES = [
    "North", "South", "East", "West", "Blue", "Silver", "Golden", "Red", "Green", "Bright",
    "Summit", "Harbor", "River", "Stone", "Oak", "Pine", "Maple", "Cedar", "Eagle", "Falcon",
    "Lion", "Crown", "Star", "Sun", "Moon", "Iron", "Crystal", "Pacific", "Atlantic", "Prime",
    "Apex", "Nova", "Orion", "Polar", "Delta", "Sierra", "Lake", "Bay", "Ever", "Fair",
]  # fmt: skip
ENGLISH_SUFFIXES = [
    "wind", "field", "gate", "bridge", "point", "wood", "stone", "light", "way", "ridge",
    "view", "port", "line", "crest", "vale", "mark", "ford", "brook", "water", "land",
]  # fmt: skip
ENGLISH_LEGAL_FORMS = ["Ltd", "Co., Ltd.", "Inc.", "LLC", "Limited", "Corp.", "GmbH", "Group"]
# Cities an English-named company may carry in its name ("" = none); the customer's region
# is then the city's region, or any region for a name without a city.
ENGLISH_CITIES = ["", "", "", "", "Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Suzhou",
                  "Hangzhou", "Hong Kong", "Singapore", "Tianjin", "Chengdu", "Wuhan", "Xiamen"]  # fmt: skip

ROADS = [
    ("人民路", "Renmin Road"), ("中山路", "Zhongshan Road"), ("解放路", "Jiefang Road"),
    ("建设路", "Jianshe Road"), ("科技园路", "Science Park Road"), ("创业大道", "Chuangye Avenue"),
    ("滨江大道", "Binjiang Avenue"), ("长江路", "Changjiang Road"), ("工业园区金鸡湖大道", "Jinji Lake Avenue"),
    ("高新区科苑路", "Keyuan Road"), ("经济开发区兴业路", "Xingye Road"), ("世纪大道", "Century Avenue"),
]  # fmt: skip

SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"),
    ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
]  # fmt: skip
GIVEN_NAMES = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("建华", "jianhua"), ("志强", "zhiqiang"),
    ("晓东", "xiaodong"), ("海燕", "haiyan"), ("文博", "wenbo"), ("思远", "siyuan"), ("雨婷", "yuting"),
    ("子涵", "zihan"), ("浩然", "haoran"), ("欣怡", "xinyi"), ("俊杰", "junjie"),
]  # fmt: skip
ENGLISH_FIRST_NAMES = [
    "James", "Mary", "John", "Linda", "Michael", "Sarah", "David", "Emma", "Daniel", "Olivia",
    "Thomas", "Sophie", "Peter", "Anna", "Mark", "Laura", "Kevin", "Grace", "Steven", "Helen",
]  # fmt: skip
ENGLISH_LAST_NAMES = [
    "Smith", "Johnson", "Brown", "Taylor", "Miller", "Wilson", "Moore", "Clark", "Walker", "Hall",
    "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter", "Mitchell",
]  # fmt: skip
CHINESE_TITLES = [
    "总经理",
    "副总经理",
    "采购经理",
    "采购专员",
    "技术总监",
    "财务经理",
    "销售总监",
    "行政主管",
    "项目经理",
    "IT 主管",
]
ENGLISH_TITLES = ["CEO", "General Manager", "Purchasing Manager", "Buyer", "CTO", "Finance Manager",
                  "Head of Sales", "Office Manager", "Project Manager", "IT Lead"]  # fmt: skip
MOBILE_PREFIXES = ["130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152",
                   "158", "159", "166", "176", "177", "180", "181", "186", "187", "188", "189", "199"]  # fmt: skip
MAILBOXES = ["info", "sales", "contact", "service", "hr", "purchase", "office"]

# Follow-up notes by kind, each in Chinese and English; a customer with a Chinese name gets
# mostly Chinese notes.
FOLLOWUP_NOTES: dict[str, tuple[list[str], list[str]]] = {
    "call": (
        [
            "电话沟通了采购计划，客户预计下季度有需求。",
            "客户说预算还在审批，下周再联系。",
            "确认了报价单已收到，对价格有些顾虑。",
            "首次电话接触，介绍了公司产品，对方愿意了解更多。",
            "客户负责人出差，约了下周二再打。",
            "电话回访，客户对上次的交付很满意。",
            "对方表示暂时没有需求，半年后再跟进。",
            "讨论了付款方式，客户希望分三期付款。",
        ],
        [
            "Called about their purchasing plan; they expect a need next quarter.",
            "Budget still awaiting approval, call again next week.",
            "Confirmed they received the quote; some concerns about price.",
            "First call, introduced our products, they want to learn more.",
            "Decision maker travelling, booked a call for next Tuesday.",
            "Follow-up call: happy with the last delivery.",
            "No need for now, check back in six months.",
            "Discussed payment terms; they would like three instalments.",
        ],
    ),
    "visit": (
        [
            "上门拜访，参观了客户的生产线，了解现有设备情况。",
            "拜访采购部，递交了样品和资料。",
            "与技术团队现场交流，客户提出定制需求。",
            "陪同区域经理拜访客户老板，关系进一步加深。",
            "现场勘查，确认了安装条件。",
        ],
        [
            "On-site visit, toured their production line and current equipment.",
            "Visited purchasing, handed over samples and brochures.",
            "Met their engineers on site; they asked for a custom version.",
            "Visited the owner with our regional manager; good relationship.",
            "Site survey done, installation conditions confirmed.",
        ],
    ),
    "email": (
        [
            "发送了产品介绍和报价单。",
            "邮件发送合同草案，等待法务审核。",
            "回复了客户关于交期的问题。",
            "发送了案例资料和技术白皮书。",
            "邮件确认会议纪要。",
        ],
        [
            "Sent the product overview and a quote.",
            "E-mailed the draft contract; waiting for their legal review.",
            "Answered their question about lead times.",
            "Sent case studies and the technical white paper.",
            "Sent the minutes of our meeting.",
        ],
    ),
    "meeting": (
        [
            "线上会议演示了系统功能，客户反馈积极。",
            "与客户管理层开会，讨论年度合作框架。",
            "商务谈判会议，价格基本谈妥。",
            "项目启动会，明确了双方负责人和时间表。",
            "季度业务回顾会议。",
        ],
        [
            "Online demo of the system; positive feedback.",
            "Meeting with their management about a yearly framework deal.",
            "Negotiation meeting; price mostly agreed.",
            "Project kick-off, owners and timeline agreed on both sides.",
            "Quarterly business review.",
        ],
    ),
    "message": (
        [
            "微信沟通了发货时间。",
            "客户微信咨询新品价格。",
            "微信发送了节日问候。",
            "短信提醒客户参加展会。",
            "微信确认了拜访时间。",
        ],
        [
            "WeChat about the delivery date.",
            "They asked about new product prices on WeChat.",
            "Sent season's greetings on WeChat.",
            "Text message reminder about the trade show.",
            "Confirmed the visit time on WeChat.",
        ],
    ),
}

DEAL_TITLES = (
    ["年度采购合同", "设备采购项目", "软件服务订阅", "二期扩容项目", "备件框架协议", "技术服务合同",
     "系统集成项目", "试用订单", "年度维保合同", "定制开发项目"],
    ["Annual supply contract", "Equipment purchase", "Software subscription", "Phase 2 expansion",
     "Spare parts framework", "Technical services", "System integration", "Trial order",
     "Annual maintenance", "Custom development"],
)  # fmt: skip

COMPLAINTS = (
    ["交货延期两周，影响了客户生产。", "发票开错了抬头，重开很慢。", "售后响应太慢，电话没人接。",
     "产品质量不稳定，有一批次返工。", "报价和合同金额不一致。"],
    ["Delivery was two weeks late and held up their production.", "Invoice had the wrong company name; slow to fix.",
     "Support was slow to respond; nobody answered the phone.", "Quality varied; one batch had to be reworked.",
     "The quote and the contract amount did not match."],
)  # fmt: skip

TAGS = ["重点客户", "VIP", "老客户", "潜在大单", "价格敏感", "需要技术支持", "展会线索", "合作伙伴推荐",
        "Key account", "Reseller", "Price sensitive", "Needs demo"]  # fmt: skip

# Campaigns: (Chinese name, English name, channel).
CAMPAIGNS = [
    ("春季工业博览会", "Spring Industry Expo", "trade_show"),
    ("华东区制造业峰会", "East China Manufacturing Summit", "trade_show"),
    ("百度搜索推广", "Search ads", "advertising"),
    ("行业媒体广告", "Trade media ads", "advertising"),
    ("微信公众号推广", "WeChat official account", "social"),
    ("抖音短视频投放", "Short video ads", "social"),
    ("官网免费试用活动", "Website free trial", "website"),
    ("秋季新品发布会", "Autumn product launch", "trade_show"),
    ("年终客户答谢会", "Year-end customer event", "trade_show"),
    ("领英精准营销", "LinkedIn outreach", "social"),
    ("老客户推荐有礼", "Customer referral programme", "referral"),
    ("渠道伙伴联合推广", "Partner co-marketing", "partner"),
]
