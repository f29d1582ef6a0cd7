"""How two spellings of one company, phone or e-mail become one key: the duplicate check, the
search index and imports all normalise the same way. Pure functions, no database."""

import re
import unicodedata

# Legal-form words that do not make two companies different ("Acme Ltd" == "ACME Limited").
_LEGAL_SUFFIXES = re.compile(
    r"(有限责任公司|股份有限公司|有限公司|集团|公司|\b(?:co|company|corp|corporation|inc|incorporated|"
    r"ltd|limited|llc|gmbh|plc|group)\b)"
)


_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_company_name(name: str) -> str:
    """The form two spellings of one company share: case, width, punctuation and legal form folded."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    folded = _LEGAL_SUFFIXES.sub(" ", folded)
    return _NON_WORD.sub("", folded)


def normalize_phone(phone: str) -> str:
    """Digits only, with a leading ``+`` kept: ``+86 138-0000-0000`` → ``+8613800000000``."""
    phone = unicodedata.normalize("NFKC", phone).strip()
    digits = re.sub(r"\D", "", phone)
    return f"+{digits}" if phone.startswith("+") and digits else digits
