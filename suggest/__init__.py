"""wiki-suggest: machine suggestions for Wikipedia editors, who decide every edit."""

__version__ = "0.1.0"
TOOL_NAME = "wiki-suggest"
