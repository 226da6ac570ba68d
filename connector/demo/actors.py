"""The fixed cast of the demo day: accounts, regions, the addresses of its users, clients and
attackers, their user agents, and the load curve their traffic follows.
"""

PROD = "111122223333"
DEV = "444455556666"
REGION = "us-east-1"
EU_REGION = "eu-west-1"
LOG_BUCKET = "acme-security-logs"
TRAIL_NAME = "org-trail"

# Every public address below was checked once against the GeoLite2 City database shipped in
# `maxminddb-geolite2`; the country codes are what that database answers.
BRUTE_FORCE_SSH = (("61.177.172.13", "CN"), ("177.54.144.10", "BR"))
BRUTE_FORCE_RDP = (("185.156.73.54", "RU"), ("5.160.218.10", "IR"))
PORT_SCANNER = ("91.240.118.172", "NL")
FLOOD_SOURCE = ("14.177.233.18", "VN")
ALICE_ABROAD_IP = "105.112.41.187"  # NG, where alice has never signed in from
OFFICE_IP = "24.7.46.140"  # US
ALICE_HOME_IP = "68.46.61.67"  # US
BOB_IP = "88.152.144.8"  # DE
CAROL_IP = "217.42.74.162"  # GB
DAVE_IP = "81.67.17.147"  # FR
SUPPORT_IP = "89.101.47.208"  # IE, the office of the support vendor
MONITOR_IP = "10.0.10.61"  # the prod VPC's monitoring host, which checks service ports
PROD_NAT_IP = "18.205.93.1"  # US, the prod NAT gateway's address as AWS services see it
CI_RUNNER_IP = "20.42.65.92"  # US
WEB_CLIENTS_V4 = (
    "216.241.106.223",
    "205.97.62.48",
    "24.7.46.140",
    "155.129.14.118",
    "68.46.61.67",  # US
    "184.182.216.254",
    "205.68.126.53",
    "108.15.212.245",
    "135.18.184.188",  # US
    "88.152.144.8",
    "141.16.62.211",
    "217.237.23.227",
    "134.30.2.236",
    "145.253.232.92",  # DE
    "129.13.46.48",
    "109.226.179.59",
    "136.199.128.246",  # DE
    "217.42.74.162",
    "86.190.250.57",
    "82.27.24.169",
    "138.253.41.115",
    "86.179.5.116",  # GB
    "90.221.146.209",
    "163.156.196.178",
    "62.3.99.51",  # GB
    "126.212.213.123",
    "126.237.141.20",
    "59.171.108.57",
    "106.138.196.186",
    "220.37.116.189",  # JP
    "115.247.186.142",
    "117.250.109.216",
    "115.110.191.81",
    "45.248.16.185",
    "171.57.32.52",  # IN
    "195.36.201.133",
    "81.67.17.147",
    "88.127.210.128",
    "78.251.200.214",
    "90.112.44.250",  # FR
    "131.134.138.41",
    "64.226.162.10",
    "209.41.130.228",
    "99.246.102.224",  # CA
    "165.240.158.99",
    "101.182.117.205",
    "49.177.194.126",  # AU
    "179.250.122.167",
    "168.194.77.66",
    "186.235.65.165",  # BR
    "145.183.88.74",
    "77.169.143.29",
    "85.150.223.222",  # NL
    "45.32.106.218",
    "150.130.64.239",  # SG
    "59.26.17.223",
    "161.122.67.64",
    "39.120.80.124",  # KR
    "185.209.121.224",
    "62.36.52.227",  # ES
    "151.85.212.193",
    "95.236.137.143",  # IT
    "83.253.240.124",
    "37.250.151.221",  # SE
    "187.150.138.67",
    "189.145.161.183",  # MX
    "197.65.1.61",
    "41.122.33.215",  # ZA
    "93.105.140.139",
    "157.25.238.69",  # PL
    "129.129.232.77",
    "81.221.93.92",  # CH
    "93.95.87.108",
    "136.201.218.138",  # IE
)
WEB_CLIENTS_V6 = (
    "2a01:4f8:c17:1::1",  # DE
    "2001:67c:2e8:22::c100:68b",  # NL
    "2a03:2880:f10c:83:face:b00c::25de",  # IE
    "2404:6800:4004:80a::200e",  # AU
)
INTERNET_SERVICES = ("151.101.1.1", "140.82.112.3", "54.239.28.85")  # US: package mirror, git, AWS API
S3_ENDPOINTS = ("52.216.8.1", "52.216.8.31", "52.216.9.14")  # US (Ashburn), S3 in us-east-1
PROD_ALB_V6 = "2600:1f18:4a3:6e00::45"
DEV_APP_V6 = "2600:1f18:4a3:6e10::11"

# Relative load by hour of day (UTC), so web and API volume follows a working day.
HOURLY_LOAD = (
    0.35,
    0.3,
    0.28,
    0.27,
    0.3,
    0.38,
    0.5,
    0.65,
    0.8,
    0.9,
    0.95,
    1.0,
    1.0,
    0.98,
    0.95,
    0.92,
    0.9,
    0.85,
    0.8,
    0.72,
    0.62,
    0.55,
    0.47,
    0.4,
)

UA_BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
UA_BROWSER_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
UA_CLI = (
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.167.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/{cmd}"
)
UA_BOTO = (
    "Boto3/1.35.60 md/Botocore#1.35.60 ua/2.0 os/linux#6.1.112 md/arch#x86_64 lang/python#3.12.7 "
    "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.60"
)
UA_TERRAFORM = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.76.0 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.4 os/linux "
    "lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.190.0"
)
UA_SSM = "aws-sdk-go/1.44.260 (go1.21.8; linux; amd64) amazon-ssm-agent/3.3.987.0"
