"""Organic advisor: turns a canonical label and the grower's context into cited, bilingual organic advice.

Everything it knows lives in advisor/kb/*.yaml (see docs/knowledge-base.md).
"""
from .advice import Advice, Blocked, NotAllowed, Step
from .context import Context
from .engine import Advisor, SubstanceCheck
from .errors import AdvisorError, ContextError, KnowledgeBaseError, UnknownLabelError

__all__ = ["Advisor", "Context", "Advice", "Step", "Blocked", "NotAllowed", "SubstanceCheck",
           "AdvisorError", "ContextError", "KnowledgeBaseError", "UnknownLabelError"]
