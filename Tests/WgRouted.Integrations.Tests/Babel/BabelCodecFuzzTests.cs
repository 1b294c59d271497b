using System.Text;
using WgRouted.Integrations.Babel;

namespace WgRouted.Integrations.Tests.Babel;

public class BabelCodecFuzzTests
{
    private const int Iterations = 20_000;
    private static readonly string[] Words =
        ["add", "change", "flush", "interface", "neighbour", "route", "xroute", "up", "true", "ipv4", "ipv6", "rtt", "rttcost",
         "reach", "ff00", "-1", "4294967296", "0.000", "::", "0.0.0.0/0", "/", "ok", "no", "bad", "BABEL", "my-id", "", " "];

    [Fact]
    public void Mutated_captured_lines_never_throw()
    {
        var random = new Random(20261201);
        var seeds = BabelFixtures.Names.SelectMany(n => Encoding.ASCII.GetString(BabelFixtures.Bytes(n)).Split('\n'))
            .Where(l => l.Length > 0).Distinct().ToArray();
        var invalid = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var line = Mutate(seeds[random.Next(seeds.Length)], random);
            BabelLine parsed;
            try
            {
                parsed = BabelCodec.Parse(line);
            }
            catch (Exception e)
            {
                Assert.Fail($"iteration {i}, '{line}': {e}");
                return;
            }
            if (parsed is BabelInvalidLine bad)
            {
                invalid++;
                Assert.Equal(line, bad.Text);
                Assert.False(string.IsNullOrEmpty(bad.Problem));
            }
        }
        Assert.InRange(invalid, Iterations / 10, Iterations - 1);
    }

    [Fact]
    public void Random_bytes_in_random_chunks_never_throw_and_never_grow_a_line_past_the_limit()
    {
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[random.Next(1, 8192)];
            random.NextBytes(bytes);
            if (i % 2 == 0)
                for (var j = 0; j < bytes.Length; j++)
                    bytes[j] = bytes[j] < 8 ? (byte)'\n' : bytes[j] < 64 ? (byte)' ' : bytes[j];
            var lines = new List<BabelLine>();
            var framer = new BabelLineFramer();
            foreach (var chunk in Chunks(bytes, random))
                framer.Feed(chunk, lines);
            Assert.All(lines, l => Assert.True(l is not BabelInvalidLine bad || bad.Text.Length <= BabelCodec.MaxLineBytes + 3));
        }
    }

    [Theory]
    [MemberData(nameof(BabelFixtureTests.Names), MemberType = typeof(BabelFixtureTests))]
    public void Chunking_does_not_change_what_is_parsed(string name)
    {
        var bytes = BabelFixtures.Bytes(name);
        var whole = BabelFixtures.Lines(name);
        var random = new Random(name.Length);
        for (var i = 0; i < 20; i++)
        {
            var lines = new List<BabelLine>();
            var framer = new BabelLineFramer();
            foreach (var chunk in Chunks(bytes, random))
                framer.Feed(chunk, lines);
            Assert.Equal(whole, lines);
        }
    }

    [Fact]
    public void An_overlong_line_is_reported_once_and_the_next_line_parses()
    {
        var lines = new List<BabelLine>();
        var framer = new BabelLineFramer();
        framer.Feed(Encoding.ASCII.GetBytes("add interface " + new string('x', 3000)), lines);
        framer.Feed(Encoding.ASCII.GetBytes(new string('y', 3000) + "\nok\n"), lines);
        Assert.Equal(2, lines.Count);
        var bad = Assert.IsType<BabelInvalidLine>(lines[0]);
        Assert.StartsWith("add interface xxx", bad.Text, StringComparison.Ordinal);
        Assert.Equal($"longer than {BabelCodec.MaxLineBytes} bytes", bad.Problem);
        Assert.Equal(BabelReply.Ok, lines[1]);
    }

    [Fact]
    public void A_line_of_exactly_the_limit_is_parsed()
    {
        var lines = new List<BabelLine>();
        new BabelLineFramer().Feed(Encoding.ASCII.GetBytes("bad " + new string('m', BabelCodec.MaxLineBytes - 4) + "\n"), lines);
        Assert.Equal(BabelReplyKind.Bad, Assert.IsType<BabelReply>(Assert.Single(lines)).Kind);
    }

    private static IEnumerable<byte[]> Chunks(byte[] bytes, Random random)
    {
        for (var at = 0; at < bytes.Length;)
        {
            var length = Math.Min(bytes.Length - at, random.Next(1, 300));
            yield return bytes[at..(at + length)];
            at += length;
        }
    }

    private static string Mutate(string seed, Random random)
    {
        var words = seed.Split(' ').ToList();
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            switch (random.Next(7))
            {
                case 0 when words.Count > 0:
                    words.RemoveAt(random.Next(words.Count));
                    break;
                case 1:
                    words.Insert(random.Next(words.Count + 1), Words[random.Next(Words.Length)]);
                    break;
                case 2 when words.Count > 0:
                    words[random.Next(words.Count)] = Words[random.Next(Words.Length)];
                    break;
                case 3 when words.Count > 1:
                    var i = random.Next(words.Count);
                    var j = random.Next(words.Count);
                    (words[i], words[j]) = (words[j], words[i]);
                    break;
                case 4:
                    var text = string.Join(' ', words).ToCharArray();
                    if (text.Length > 0)
                        text[random.Next(text.Length)] = (char)random.Next(0, 0x3000);
                    words = [.. new string(text).Split(' ')];
                    break;
                case 5 when words.Count > 0:
                    var w = random.Next(words.Count);
                    words[w] = words[w][..random.Next(words[w].Length + 1)];
                    break;
                default:
                    words.Add(new string('9', random.Next(1, 30)));
                    break;
            }
        }
        return string.Join(' ', words);
    }
}
