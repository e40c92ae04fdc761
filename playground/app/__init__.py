"""The desktop shell (PySide6 + pyqtgraph): draws snapshots, sends commands, no maths."""
