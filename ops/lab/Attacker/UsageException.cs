namespace WgRouted.Lab.Attacker;

internal sealed class UsageException(string message) : Exception(message);
