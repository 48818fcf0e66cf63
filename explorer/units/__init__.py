"""The Zeiler & Fergus unit explorer: scan a dataset for each unit's top-k patches, project them, draw them.

sources   what a dataset is: ``Dataset``, ``Item``, the ``Source`` protocol, ``DatasetError``
network   whether a TCP service answers within a stated time (the Hub, a Ray cluster)
hub       a Hugging Face dataset, streamed
datasets  scikit-image's photos, folders, zips, uploads; scan views; ``open_dataset`` for any spec
forward   the scan's forward pass: each chosen conv layer's max(0, conv), fused where the CPU allows
topk      streamed top-k per unit (spatial maxima, suppression)
batches   one batch of a scan: read the views, run the network, keep each layer's top-k
stored    checks of the files read back (an index, a checkpoint), field by field
shards    the scan's state, shard by shard, with checkpoints to resume
index     the scan's result on disk, and ``ScanSettings``
engines   the Ray Data engine
scan      the scan itself (local or Ray) and its disk cache
patches   receptive-field patches, padding shown as a checkerboard
deconv    deconvnet and guided-backprop projections
filters   conv1_1's filters as pictures
tiles     pages of units: cells, tiles, labels
probe     a user's own photo, unit by unit: activation maps, peaks and their boxes
service   the explorer as the app uses it (no Gradio)
"""
