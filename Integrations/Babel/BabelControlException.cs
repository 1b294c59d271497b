namespace WgRouted.Integrations.Babel;

/// <summary>No connection to babeld, or it ended or stopped answering during a command.</summary>
public sealed class BabelControlException : IOException
{
    public BabelControlException(string message)
        : base(message)
    {
    }

    public BabelControlException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
