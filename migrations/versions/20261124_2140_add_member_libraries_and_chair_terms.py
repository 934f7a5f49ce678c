"""add the 15 member libraries and the known chair libraries

The members, codes and join dates come from the alliance's own description (shared/seed):
three founders on 2010-03-19; five more joined the 昌北 alliance before it was renamed on
2018-03-08 (exact dates unknown, so ``join_date_exact`` is false); four on 2019-05-31; two
on 2019-10-23; one on 2020-06-02. The chair library was 南昌大学 in 2023 and 江西科技师范大学
from 2024 (the handover at the 2023-12-18 meeting).

Revision ID: 5b1c0d7e2a90
Revises: 273fef675142
Create Date: 2026-11-24 21:40
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "5b1c0d7e2a90"
down_revision = "273fef675142"
branch_labels = None
depends_on = None

RENAMED = date(2018, 3, 8)
MEMBERS = [
    # code, Chinese name, English name, city, city (en), joined, exact, founding
    ("JXUFE", "江西财经大学图书馆", "Jiangxi University of Finance and Economics Library",
     "南昌", "Nanchang", date(2010, 3, 19), True, True),
    ("ECJTU", "华东交通大学图书馆", "East China Jiaotong University Library",
     "南昌", "Nanchang", date(2010, 3, 19), True, True),
    ("JXAU", "江西农业大学图书馆", "Jiangxi Agricultural University Library",
     "南昌", "Nanchang", date(2010, 3, 19), True, True),
    ("NCHU", "南昌航空大学图书馆", "Nanchang Hangkong University Library",
     "南昌", "Nanchang", RENAMED, False, False),
    ("ECUT", "东华理工大学图书馆", "East China University of Technology Library",
     "南昌", "Nanchang", RENAMED, False, False),
    ("JXUTCM", "江西中医药大学图书馆", "Jiangxi University of Chinese Medicine Library",
     "南昌", "Nanchang", RENAMED, False, False),
    ("JXSTNU", "江西科技师范大学图书馆", "Jiangxi Science and Technology Normal University Library",
     "南昌", "Nanchang", RENAMED, False, False),
    ("NCU", "南昌大学图书馆", "Nanchang University Library",
     "南昌", "Nanchang", RENAMED, False, False),
    ("JJU", "九江学院图书馆", "Jiujiang University Library",
     "九江", "Jiujiang", date(2019, 5, 31), True, False),
    ("NIT", "南昌工程学院图书馆", "Nanchang Institute of Technology Library",
     "南昌", "Nanchang", date(2019, 5, 31), True, False),
    ("SRNU", "上饶师范学院图书馆", "Shangrao Normal University Library",
     "上饶", "Shangrao", date(2019, 5, 31), True, False),
    ("JDZU", "景德镇学院图书馆", "Jingdezhen University Library",
     "景德镇", "Jingdezhen", date(2019, 5, 31), True, False),
    ("YCU", "宜春学院图书馆", "Yichun University Library",
     "宜春", "Yichun", date(2019, 10, 23), True, False),
    ("JXEMC", "江西经济管理干部学院图书馆", "Jiangxi Economic Management Cadre College Library",
     "南昌", "Nanchang", date(2019, 10, 23), True, False),
    ("JCU", "景德镇陶瓷大学图书馆", "Jingdezhen Ceramic University Library",
     "景德镇", "Jingdezhen", date(2020, 6, 2), True, False),
]
CHAIRS = [(2023, "NCU"), (2024, "JXSTNU")]

libraries = sa.table(
    "libraries",
    sa.column("code", sa.String), sa.column("name_zh", sa.String), sa.column("name_en", sa.String),
    sa.column("city", sa.String), sa.column("city_en", sa.String),
    sa.column("joined_on", sa.Date), sa.column("join_date_exact", sa.Boolean),
    sa.column("founding", sa.Boolean),
)


def upgrade():
    op.bulk_insert(libraries, [
        dict(code=c, name_zh=zh, name_en=en, city=city, city_en=city_en, joined_on=joined,
             join_date_exact=exact, founding=founding)
        for c, zh, en, city, city_en, joined, exact, founding in MEMBERS
    ])
    for year, code in CHAIRS:
        op.execute(sa.text(
            "INSERT INTO chair_terms (year, library_id) "
            "SELECT :year, id FROM libraries WHERE code = :code"
        ).bindparams(year=year, code=code))


def downgrade():
    op.execute(sa.text("DELETE FROM chair_terms WHERE year IN (2023, 2024)"))
    op.execute(sa.text("DELETE FROM libraries WHERE code IN :codes").bindparams(
        sa.bindparam("codes", value=tuple(m[0] for m in MEMBERS), expanding=True)))
