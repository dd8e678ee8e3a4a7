"""One module per figure: reads tables and stats, draws, saves PDF + PNG. No statistics here."""
