namespace WgRouted.Integrations.Netlink;

/// <summary>Objects of one kind by identity; every mutation appends the resulting change.</summary>
internal sealed class ObjectTable<TKey, T>(Func<T, TKey> key) where TKey : notnull where T : class
{
    private readonly Dictionary<TKey, T> _objects = [];

    public int Count => _objects.Count;

    public IReadOnlyList<T> Values => [.. _objects.Values];

    public void Upsert(T value, List<Change<T>> changes)
    {
        var k = key(value);
        if (!_objects.TryGetValue(k, out var old))
            changes.Add(new Change<T>(ChangeKind.Added, null, value));
        else if (!old.Equals(value))
            changes.Add(new Change<T>(ChangeKind.Changed, old, value));
        else
            return;
        _objects[k] = value;
    }

    public void Remove(T value, List<Change<T>> changes)
    {
        if (_objects.Remove(key(value), out var old))
            changes.Add(new Change<T>(ChangeKind.Removed, old, null));
    }

    public void RemoveWhere(Func<T, bool> predicate, List<Change<T>> changes)
    {
        foreach (var value in _objects.Values.Where(predicate).ToList())
            Remove(value, changes);
    }

    public void ReplaceAll(IEnumerable<T> values, List<Change<T>> changes)
    {
        var fresh = new Dictionary<TKey, T>();
        foreach (var value in values)
            fresh[key(value)] = value;
        foreach (var (k, old) in _objects.ToList())
            if (!fresh.ContainsKey(k))
                Remove(old, changes);
        foreach (var value in fresh.Values)
            Upsert(value, changes);
    }
}
