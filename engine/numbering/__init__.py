"""Numbers the system issues: 线索编号, 案件编号 and every 文号 (engine/numbering/sequences.py)."""
