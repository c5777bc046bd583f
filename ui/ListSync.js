// Brings a ListModel to `items` (objects with the given keys), writing only the
// entries that differ, appending and removing at the end. The chat view gets a
// new list of an answer's blocks (or reasoning pieces) on every streamed frame;
// written this way, the delegates of unchanged entries stay as they are (their
// layout, a selection in them) and only a changed one is laid out again.
.pragma library

function update(model, items, keys) {
    for (let i = 0; i < items.length; ++i) {
        const entry = {}
        for (const key of keys) entry[key] = items[i][key]
        if (i >= model.count) {
            model.append(entry)
            continue
        }
        const have = model.get(i)
        if (keys.some(key => have[key] !== entry[key])) model.set(i, entry)
    }
    if (model.count > items.length) model.remove(items.length, model.count - items.length)
}
