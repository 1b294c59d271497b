using WgRouted.Engine;

namespace WgRouted.Service.Store;

/// <summary>
/// The recorder's side of probe_paths and probe_answers: a local number for every path and answer pair seen
/// (an index into <see cref="Paths"/> or <see cref="Answers"/>), and its database id once resolved (0: not yet).
/// Used by the recorder's loop only.
/// </summary>
internal sealed class OutcomeNames
{
    private readonly Dictionary<(PeerKey, CandidatePath), int> _paths = [];
    private readonly Dictionary<(Endpoint?, Endpoint?), int> _answers = [];

    public List<(PeerKey Peer, CandidatePath Path)> Paths { get; } = [];
    public List<(Endpoint? Observed, Endpoint? PeerEndpoint)> Answers { get; } = [];
    public List<int> PathIds { get; } = [];
    public List<int> AnswerIds { get; } = [];

    public int PathOf(PeerKey peer, CandidatePath path)
    {
        if (_paths.TryGetValue((peer, path), out var number))
            return number;
        number = Paths.Count;
        Paths.Add((peer, path));
        PathIds.Add(0);
        _paths.Add((peer, path), number);
        return number;
    }

    public int AnswerOf(Endpoint? observed, Endpoint? peerEndpoint)
    {
        if (observed is null && peerEndpoint is null)
            return -1;
        if (_answers.TryGetValue((observed, peerEndpoint), out var number))
            return number;
        number = Answers.Count;
        Answers.Add((observed, peerEndpoint));
        AnswerIds.Add(0);
        _answers.Add((observed, peerEndpoint), number);
        return number;
    }

    /// <summary>The database may have been replaced while we could not reach it: ask for every id again.</summary>
    public void Forget()
    {
        for (var i = 0; i < PathIds.Count; i++)
            PathIds[i] = 0;
        for (var i = 0; i < AnswerIds.Count; i++)
            AnswerIds[i] = 0;
    }
}
