"""The Zeiler & Fergus unit explorer: scan a dataset for each unit's top-k patches, project them, draw them."""
