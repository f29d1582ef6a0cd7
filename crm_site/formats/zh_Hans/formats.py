"""Number formats for Simplified Chinese, over Django's own (``FORMAT_MODULE_PATH``).

Django's zh_Hans locale has no thousands separator and groups by four digits, so a sales
figure reads 2177800.00. Business figures in mainland China are written with a comma every
three digits (2,177,800.00), as in the finance and CRM software people use; dates and times
keep Django's zh_Hans formats (only what is set here is replaced).
"""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
