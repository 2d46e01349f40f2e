import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli import pii


class Scoped(models.Model):
    """A row that belongs to a place: `region` is its smallest unit, `region_path` its path."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=255)

    class Meta:
        abstract = True

    def set_region(self, region):
        self.region = region
        self.region_path = region.path


def scope_index(name: str, *extra: str) -> models.Index:
    # varchar_pattern_ops lets PostgreSQL use the index for `LIKE 'path%'` under any collation;
    # other databases ignore opclasses.
    return models.Index(
        fields=["region_path", *extra],
        name=name,
        opclasses=["varchar_pattern_ops"] + [""] * len(extra),
    )


class Building(Scoped):
    # building_unique_in_grid (region first) finds a grid's buildings.
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+", db_index=False)
    estate = models.CharField(_("estate"), max_length=100, help_text=_("Residential estate (小区) or street address"))
    number = models.CharField(_("building number"), max_length=20)
    address = models.CharField(_("street address"), max_length=200, blank=True)
    floors = models.PositiveSmallIntegerField(_("floors"), default=6)
    units = models.PositiveSmallIntegerField(_("units"), default=1)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [scope_index("building_scope_idx", "id")]
        constraints = [
            models.UniqueConstraint(fields=["region", "estate", "number"], name="building_unique_in_grid"),
        ]

    def __str__(self):
        return f"{self.estate}{self.label}"

    @property
    def label(self) -> str:
        return self.label_of(self.number)

    @staticmethod
    def label_of(number: str) -> str:
        """How a building number reads: 3 -> 3号楼; a name (A座) as it is."""
        return number if not number.isdigit() else f"{number}号楼"


class HouseUse(models.TextChoices):
    OWNER = "owner", _("Owner-occupied")
    RENTED = "rented", _("Rented")
    VACANT = "vacant", _("Vacant")
    COMMERCIAL = "commercial", _("Commercial")


class House(Scoped):
    # No index of their own: a house is found by its building through house_unique_in_building
    # (building first), and by its place through region_path.
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+", db_index=False)
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="houses", db_index=False)
    unit = models.PositiveSmallIntegerField(_("unit"), default=1)
    room = models.CharField(_("room"), max_length=20)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    use = models.CharField(_("use"), max_length=20, choices=HouseUse.choices, default=HouseUse.OWNER)
    area = models.DecimalField(_("area (m²)"), max_digits=8, decimal_places=2, null=True, blank=True)

    class Meta:
        indexes = [scope_index("house_scope_idx", "id")]
        constraints = [
            models.UniqueConstraint(fields=["building", "unit", "room"], name="house_unique_in_building"),
        ]
        ordering = ["building_id", "unit", "room"]

    def __str__(self):
        return f"{self.building}{self.unit}单元{self.room}室"

    @property
    def short_label(self) -> str:
        return f"{self.building.label}{self.unit}单元{self.room}室"


class Household(Scoped):
    # Found by its place through region_path; the grid id is for display.
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+", db_index=False)
    house = models.ForeignKey(House, on_delete=models.PROTECT, related_name="households")
    number = models.CharField(_("household number"), max_length=30, blank=True)
    head = models.ForeignKey("Resident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)

    class Meta:
        indexes = [scope_index("household_scope_idx", "id")]

    def __str__(self):
        head = self.head.name if self.head_id else ""
        return f"{self.house} {head}户".strip()


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class ResidenceType(models.TextChoices):
    REGISTERED = "registered", _("Registered (户籍)")
    FLOATING = "floating", _("Floating (流动)")
    OVERSEAS = "overseas", _("Overseas (境外)")


class PoliticalStatus(models.TextChoices):
    MASSES = "masses", _("Masses")
    CPC_MEMBER = "cpc", _("CPC member")
    CPC_PROBATIONARY = "cpc_probationary", _("CPC probationary member")
    CYL_MEMBER = "cyl", _("Communist Youth League member")
    DEMOCRATIC_PARTY = "democratic", _("Democratic party member")
    NON_PARTISAN = "non_partisan", _("Non-partisan")


class ResidentStatus(models.TextChoices):
    ACTIVE = "active", _("Living here")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")


class Relation(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    GRANDPARENT = "grandparent", _("Grandparent")
    SIBLING = "sibling", _("Sibling")
    CHILD_IN_LAW = "child_in_law", _("Son/daughter-in-law")
    TENANT = "tenant", _("Tenant")
    OTHER = "other", _("Other")


def age_on(birth: dt.date, on: dt.date) -> int:
    """Whole years from `birth` to `on`."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


class Resident(Scoped):
    # No index of its own: residents are found by region_path; the grid id is for display.
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+", db_index=False)
    name = models.CharField(_("name"), max_length=50)
    pinyin = models.CharField(max_length=200, blank=True)
    initials = models.CharField(max_length=50, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    id_number_enc = models.TextField(blank=True)
    # Every resident has an ID number (the services and the importer require one), so a plain
    # unique index serves both uniqueness and the exact lookup.
    id_number_bidx = models.CharField(max_length=32, unique=True)
    id_number_masked = models.CharField(_("ID number"), max_length=18, blank=True)
    phone_enc = models.TextField(blank=True)
    phone_bidx = models.CharField(max_length=32, blank=True, db_index=True)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, default="汉族")
    residence_type = models.CharField(
        _("residence type"), max_length=20, choices=ResidenceType.choices, default=ResidenceType.REGISTERED
    )
    political_status = models.CharField(
        _("political status"), max_length=20, choices=PoliticalStatus.choices, default=PoliticalStatus.MASSES
    )
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT, related_name="members")
    relation = models.CharField(_("relation to head"), max_length=20, choices=Relation.choices, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ResidentStatus.choices, default=ResidentStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # These four columns are byte-ordered (COLLATE "C" on PostgreSQL, set by migration
            # 0005; BINARY on SQLite), so one plain index answers both `LIKE 'p%'` and the
            # order of a page: lists and searches read 51 index entries, never sort an area.
            models.Index(fields=["region_path", "id"], name="resident_scope_c_idx"),
            models.Index(fields=["name", "id"], name="resident_name_c_idx"),
            models.Index(fields=["initials", "id"], name="resident_initials_c_idx"),
            models.Index(fields=["pinyin", "id"], name="resident_pinyin_c_idx"),
        ]
        permissions = [("reveal_personal_data", "Can reveal ID numbers and phone numbers")]

    def __str__(self):
        return self.name

    AAD_ID = b"registry.resident.id_number"
    AAD_PHONE = b"registry.resident.phone"
    # Encrypted columns and their associated data (rotate_data_key re-encrypts them).
    ENCRYPTED_FIELDS = {"id_number_enc": AAD_ID, "phone_enc": AAD_PHONE}

    def set_id_number(self, number: str):
        self.id_number_enc = pii.encrypt(number, self.AAD_ID)
        self.id_number_bidx = pii.blind_index(number, "id_number")
        self.id_number_masked = pii.mask_id_number(number)

    def set_phone(self, phone: str):
        self.phone_enc = pii.encrypt(phone, self.AAD_PHONE)
        self.phone_bidx = pii.blind_index(phone, "phone")
        self.phone_masked = pii.mask_phone(phone)

    def reveal_id_number(self) -> str:
        """Plain ID number. Callers go through services.reveal(), which logs the access."""
        return pii.decrypt(self.id_number_enc, self.AAD_ID)

    def reveal_phone(self) -> str:
        return pii.decrypt(self.phone_enc, self.AAD_PHONE)

    def age(self, on: dt.date | None = None) -> int:
        return age_on(self.birth_date, on or dt.date.today())


class HouseholdMembership(models.Model):
    """Who belonged to which household when. At most one open membership per resident."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="memberships")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="memberships")
    relation = models.CharField(max_length=20, choices=Relation.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resident"], condition=models.Q(end_date__isnull=True), name="one_open_household_per_resident"
            ),
        ]

    def __str__(self):
        return f"{self.resident_id} in {self.household_id} from {self.start_date}"


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    MOVE_IN = "move_in", _("Moved in")
    MOVE_OUT = "move_out", _("Moved out")
    MOVE_HOUSE = "move_house", _("Moved house")
    DEATH = "death", _("Died")


class ResidentEvent(models.Model):
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    date = models.DateField()
    from_household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    # Events are read by resident and by household, never by author: no index.
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.date}"


class TagCategory(models.TextChoices):
    CARE = "care", _("Care group")
    KEY = "key", _("Key person")


class CareTag(models.Model):
    """A care group or key-person flag. Rows, not code: administrators add and retire tags."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=30)
    name_en = models.CharField(max_length=60, blank=True)
    category = models.CharField(max_length=10, choices=TagCategory.choices, default=TagCategory.CARE)
    # Derived tags (elderly by age, children by age) are set from the birth date, not by hand.
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    sort = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["sort", "code"]

    def __str__(self):
        return self.name

    def label(self, language: str = "zh-hans") -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class ResidentTag(models.Model):
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="tags")
    # residenttag_tag_scope_idx (tag first) finds a tag's rows.
    tag = models.ForeignKey(CareTag, on_delete=models.PROTECT, related_name="+", db_index=False)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    region_path = models.CharField(max_length=255)

    class Meta:
        indexes = [
            models.Index(fields=["tag", "region_path"], name="residenttag_tag_scope_idx", opclasses=["", "varchar_pattern_ops"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "tag"], condition=models.Q(end_date__isnull=True), name="one_open_tag_per_resident"
            ),
        ]

    def __str__(self):
        return f"{self.tag_id} from {self.start_date}"


class OrgKind(models.TextChoices):
    BUSINESS = "business", _("Business")
    SOCIAL = "social", _("Social organisation")
    SCHOOL = "school", _("School")
    HOSPITAL = "hospital", _("Hospital or clinic")
    GOVERNMENT = "government", _("Government or public institution")
    PROPERTY = "property", _("Property management company")
    OTHER = "other", _("Other")


class Organization(Scoped):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=OrgKind.choices, default=OrgKind.BUSINESS)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    building = models.ForeignKey(Building, null=True, blank=True, on_delete=models.SET_NULL, related_name="organizations")
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone_enc = models.TextField(blank=True)
    contact_phone_bidx = models.CharField(max_length=32, blank=True, db_index=True)
    contact_phone_masked = models.CharField(_("contact phone"), max_length=20, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    AAD_PHONE = b"registry.organization.contact_phone"
    ENCRYPTED_FIELDS = {"contact_phone_enc": AAD_PHONE}

    class Meta:
        indexes = [scope_index("organization_scope_idx", "id")]

    def __str__(self):
        return self.name

    def set_contact_phone(self, phone: str):
        self.contact_phone_enc = pii.encrypt(phone, self.AAD_PHONE)
        self.contact_phone_bidx = pii.blind_index(phone, "phone")
        self.contact_phone_masked = pii.mask_phone(phone)

    def reveal_contact_phone(self) -> str:
        return pii.decrypt(self.contact_phone_enc, self.AAD_PHONE)


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "atomic", _("All or nothing")
    VALID_ROWS = "valid_rows", _("Take the valid rows")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected, nothing changed")
    FAILED = "failed", _("Failed")


class ImportJob(Scoped):
    """One upload of a resident spreadsheet; `region` is the scope it imports into."""

    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    mode = models.CharField(max_length=20, choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING)
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    original_name = models.CharField(max_length=255)
    file = models.FileField(upload_to="imports/%Y/%m/")
    report = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.original_name
