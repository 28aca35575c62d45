"""The formatter's comment markers; the comment scanner itself is `leadlang.syntax.comments`."""

from __future__ import annotations

import re

from leadlang.syntax.comments import Comment, scan

__all__ = ["FMT_OFF", "FMT_ON", "Comment", "scan"]

FMT_OFF = re.compile(r"#\s*fmt:\s*off\s*")
FMT_ON = re.compile(r"#\s*fmt:\s*on\s*")
