"""SiamOT's evaluation toolkit: datasets, settings, tracker registry, runners, analysis and plots."""
