using WgRouted.Integrations.Babel;
using WgRouted.Tests.Shared;

namespace WgRouted.Integrations.Tests.Babel;

/// <summary>What babeld 1.12.1 wrote on its control socket, byte for byte (Fixtures/capture records them).</summary>
internal static class BabelFixtures
{
    public static readonly string[] Names = ["tunnel-pair.txt", "wired-pair.txt", "commands.txt", "read-only.txt"];

    public static byte[] Bytes(string name) =>
        File.ReadAllBytes(Path.Combine(Repository.Root(), "Tests", "WgRouted.Integrations.Tests", "Babel", "Fixtures", name));

    public static List<BabelLine> Lines(string name)
    {
        var lines = new List<BabelLine>();
        new BabelLineFramer().Feed(Bytes(name), lines);
        return lines;
    }
}
