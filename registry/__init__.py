"""The people registry: 实有人口, 实有房屋, 实有单位.

Glossary: building 楼栋 (in a grid), house 房屋 (a unit/room of a building), household 户
(people living in one house under a head 户主), resident 居民, organisation 单位/组织, care tag
关爱标签 (一老一小一残一特, 低保, 特困, 空巢, ...), key person 重点人员. Residents are never deleted:
moving in, moving out, moving house and death are dated events.
"""
