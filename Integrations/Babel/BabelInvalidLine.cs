namespace WgRouted.Integrations.Babel;

/// <summary>A line that could not be parsed: <see cref="Problem"/> says why.</summary>
public sealed record BabelInvalidLine(string Text, string Problem) : BabelLine
{
    public override string ToString() => $"bad babeld line '{Text}': {Problem}";
}
