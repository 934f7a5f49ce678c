"""add the member libraries' address, opening hours and contact

Readers look for where a library is, when it is open and how to reach it. The addresses are
those the universities publish for their main campus (the library is on it); the hours are
typical of the member libraries, not each one's timetable; phone and email are left for each
library admin to fill in (``jala library-info``), as no list of them is public.

Revision ID: 4f7a1c9e2d35
Revises: 9d4e2b7c1f08
Create Date: 2026-12-10 12:00
"""
import sqlalchemy as sa
from alembic import op

revision = "4f7a1c9e2d35"
down_revision = "9d4e2b7c1f08"
branch_labels = None
depends_on = None

TYPICAL_HOURS = "周一至周日 8:00–22:00（典型开放时间，以本馆公告为准）"
ADDRESSES = {
    "JXUFE": "江西省南昌市经济技术开发区双港东大街169号",
    "ECJTU": "江西省南昌市经济技术开发区双港东大街808号",
    "JXAU": "江西省南昌市经济技术开发区志敏大道1101号",
    "NCHU": "江西省南昌市红谷滩区丰和南大道696号",
    "ECUT": "江西省南昌市经济技术开发区广兰大道418号",
    "JXUTCM": "江西省南昌市新建区兴湾大道1688号",
    "JXSTNU": "江西省南昌市红谷滩区学府大道605号",
    "NCU": "江西省南昌市红谷滩区学府大道999号",
    "JJU": "江西省九江市濂溪区前进东路551号",
    "NIT": "江西省南昌市高新技术产业开发区天祥大道289号",
    "SRNU": "江西省上饶市信州区志敏大道401号",
    "JDZU": "江西省景德镇市昌江区新厂西路838号",
    "YCU": "江西省宜春市袁州区学府路576号",
    "JXEMC": "江西省南昌市青山湖区北京东路",
    "JCU": "江西省景德镇市浮梁县湘湖镇景德镇陶瓷大学湘湖校区",
}


def upgrade():
    op.add_column("libraries", sa.Column("address", sa.String(length=300), nullable=True))
    op.add_column("libraries", sa.Column("opening_hours", sa.String(length=300), nullable=True))
    op.add_column("libraries", sa.Column("phone", sa.String(length=50), nullable=True))
    op.add_column("libraries", sa.Column("email", sa.String(length=254), nullable=True))
    for code, address in ADDRESSES.items():
        op.execute(sa.text(
            "UPDATE libraries SET address = :address, opening_hours = :hours WHERE code = :code"
        ).bindparams(address=address, hours=TYPICAL_HOURS, code=code))


def downgrade():
    op.drop_column("libraries", "email")
    op.drop_column("libraries", "phone")
    op.drop_column("libraries", "opening_hours")
    op.drop_column("libraries", "address")
