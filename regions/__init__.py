"""The tree of places.

Glossary: city 市, district 区/县, street 街道/镇/乡 (a "street" in code whatever its kind),
community 社区/村 (likewise), grid 网格. Every scoped row elsewhere copies its region's `path`
into `region_path`, so a subtree is `region_path__startswith=node.path`.
"""
