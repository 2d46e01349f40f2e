"""Re-encrypt every protected value under the current data key.

Rotation: add the new key to LINLI_DATA_KEYS (keeping the old one), point LINLI_DATA_KEY_ID at
it, run this command, then drop the old key. Rows already under the current key are skipped, so
an interrupted run can simply be run again. Every model that keeps encrypted columns names them
with their associated data in `ENCRYPTED_FIELDS` ({column: aad}); all of them are rotated.
"""

from django.apps import apps
from django.core.management import BaseCommand
from django.db import transaction

from linli import pii


def _targets():
    return [
        (model, sorted(model.ENCRYPTED_FIELDS.items()))
        for model in apps.get_models()
        if getattr(model, "ENCRYPTED_FIELDS", None)
    ]


def rotate(batch_size: int = 2000, stdout=None) -> int:
    kid = pii.current_kid()
    changed = 0
    for model, fields in _targets():
        names = [f for f, _ in fields]
        last = 0
        while True:
            rows = list(model.objects.filter(pk__gt=last).order_by("pk").values_list("pk", *names)[:batch_size])
            if not rows:
                break
            last = rows[-1][0]
            updates = []
            for pk, *tokens in rows:
                new = {}
                for (field, aad), token in zip(fields, tokens, strict=True):
                    if token and pii.key_id_of(token) != kid:
                        new[field] = pii.encrypt(pii.decrypt(token, aad), aad)
                if new:
                    updates.append((pk, new))
            with transaction.atomic():
                for pk, new in updates:
                    model.objects.filter(pk=pk).update(**new)
            changed += len(updates)
        if stdout:
            stdout.write(f"{model.__name__}: re-encrypted under key {kid}")
    return changed


class Command(BaseCommand):
    help = "Re-encrypt ID numbers and phone numbers under the current data key (LINLI_DATA_KEY_ID)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, batch_size, **options):
        n = rotate(batch_size, self.stdout)
        self.stdout.write(self.style.SUCCESS(f"{n} rows re-encrypted."))
