namespace WgRouted.Integrations.Babel;

/// <summary>babeld's objects by key: applies notifications and dumps, and says what each changed.</summary>
internal sealed class BabelTable
{
    private readonly Dictionary<string, BabelObject> _objects = new(StringComparer.Ordinal);
    private HashSet<string>? _listed;

    public int Count => _objects.Count;

    public bool Contains(string key) => _objects.ContainsKey(key);

    /// <summary>Returns the change, or null when the notification changes nothing.</summary>
    public BabelChanged? Apply(BabelNotification notification)
    {
        var key = notification.Object.Key;
        _objects.TryGetValue(key, out var old);
        if (notification.Kind == BabelNotificationKind.Flush)
        {
            _listed?.Remove(key);
            return _objects.Remove(key) ? new BabelChanged(old, null) : null;
        }
        _listed?.Add(key);
        _objects[key] = notification.Object;
        return notification.Object.Equals(old) ? null : new BabelChanged(old, notification.Object);
    }

    /// <summary>
    /// From the moment `dump` is sent: babeld writes what changed before it read the command, then lists
    /// everything. So at its `ok`, whatever was neither listed nor changed since is gone.
    /// </summary>
    public void BeginDump() => _listed = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Ends a dump; when it completed, drops what it did not list and returns those removals, in key order.</summary>
    public List<BabelChanged> EndDump(bool completed)
    {
        var removed = new List<BabelChanged>();
        if (completed && _listed is not null)
            foreach (var key in _objects.Keys.Where(k => !_listed.Contains(k)).Order(StringComparer.Ordinal).ToList())
            {
                removed.Add(new BabelChanged(_objects[key], null));
                _objects.Remove(key);
            }
        _listed = null;
        return removed;
    }

    public void Clear()
    {
        _objects.Clear();
        _listed = null;
    }

    public BabelSnapshot Snapshot()
    {
        var ordered = _objects.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => o.Value).ToList();
        return new BabelSnapshot(
            ordered.OfType<BabelInterface>().ToList(),
            ordered.OfType<BabelNeighbour>().ToList(),
            ordered.OfType<BabelXRoute>().ToList(),
            ordered.OfType<BabelRoute>().ToList());
    }
}
