using System.Text;
using WgRouted.Integrations.Babel;

namespace WgRouted.Integrations.Tests.Babel;

public class BabelCommandTests
{
    [Fact]
    public void Fixed_commands_are_one_word_lines()
    {
        Assert.Equal("dump\n"u8.ToArray(), BabelCommand.Dump.ToBytes());
        Assert.Equal("monitor\n"u8.ToArray(), BabelCommand.Monitor.ToBytes());
        Assert.Equal("unmonitor\n"u8.ToArray(), BabelCommand.Unmonitor.ToBytes());
        Assert.Equal("quit\n"u8.ToArray(), BabelCommand.Quit.ToBytes());
    }

    [Fact]
    public void An_interface_command_writes_every_parameter_in_a_fixed_order()
    {
        var command = BabelCommand.Interface("wg0", new BabelInterfaceConfig
        {
            MaxRttPenalty = 96,
            RttMax = TimeSpan.FromMilliseconds(100),
            RttMin = TimeSpan.FromMilliseconds(5),
            RttDecay = 128,
            RxCost = 96,
            UpdateInterval = TimeSpan.FromSeconds(4),
            HelloInterval = TimeSpan.FromSeconds(1),
            EnableTimestamps = true,
            Type = BabelInterfaceType.Tunnel,
        });
        Assert.Equal(
            "interface wg0 type tunnel enable-timestamps true hello-interval 1 update-interval 4 rxcost 96 rtt-decay 128 rtt-min 5 rtt-max 100 max-rtt-penalty 96\n",
            Encoding.ASCII.GetString(command.ToBytes()));
    }

    [Fact]
    public void An_interface_without_parameters_is_its_name() =>
        Assert.Equal("interface wg0", BabelCommand.Interface("wg0", new BabelInterfaceConfig()).Text);

    [Theory]
    [InlineData(BabelInterfaceType.Auto, "auto")]
    [InlineData(BabelInterfaceType.Wired, "wired")]
    [InlineData(BabelInterfaceType.Wireless, "wireless")]
    [InlineData(BabelInterfaceType.Tunnel, "tunnel")]
    public void Interface_types_are_babelds_words(BabelInterfaceType type, string word) =>
        Assert.Equal($"interface x type {word}", BabelCommand.Interface("x", new BabelInterfaceConfig { Type = type }).Text);

    [Theory]
    [InlineData(1000, "1")]
    [InlineData(500, "0.5")]
    [InlineData(1250, "1.25")]
    [InlineData(4, "0.004")]
    [InlineData(655350, "655.35")]
    public void Intervals_are_seconds_with_millisecond_decimals(int ms, string written) =>
        Assert.Equal($"interface x hello-interval {written}",
            BabelCommand.Interface("x", new BabelInterfaceConfig { HelloInterval = TimeSpan.FromMilliseconds(ms) }).Text);

    [Theory]
    [InlineData(10_000, "10")]
    [InlineData(2_500, "2.5")]
    [InlineData(10, "0.01")]
    [InlineData(1, "0.001")]
    public void Rtt_bounds_are_milliseconds_with_microsecond_decimals(int us, string written) =>
        Assert.Equal($"interface x rtt-min {written}",
            BabelCommand.Interface("x", new BabelInterfaceConfig { RttMin = TimeSpan.FromMicroseconds(us) }).Text);

    [Theory]
    [InlineData("")]
    [InlineData("wg 0")]
    [InlineData("wg0\nflush interface eth0")]
    [InlineData("wg0\tx")]
    [InlineData("wg#0")]
    [InlineData("\"wg0")]
    [InlineData("wg/0")]
    [InlineData("wg:0")]
    [InlineData("wgé")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("wg0123456789abcd")]
    public void Names_that_could_smuggle_a_field_or_a_command_are_refused(string name)
    {
        Assert.False(BabelCommand.IsInterfaceName(name));
        Assert.Throws<ArgumentException>(() => BabelCommand.Interface(name, new BabelInterfaceConfig()));
    }

    public static TheoryData<BabelInterfaceConfig> OutOfRange => new()
    {
        new BabelInterfaceConfig { HelloInterval = TimeSpan.Zero },
        new BabelInterfaceConfig { HelloInterval = TimeSpan.FromMicroseconds(1500) },
        new BabelInterfaceConfig { HelloInterval = TimeSpan.FromMilliseconds(655351) },
        new BabelInterfaceConfig { UpdateInterval = TimeSpan.FromSeconds(-1) },
        new BabelInterfaceConfig { RxCost = 0 },
        new BabelInterfaceConfig { RxCost = 65536 },
        new BabelInterfaceConfig { RttDecay = 0 },
        new BabelInterfaceConfig { RttDecay = 257 },
        new BabelInterfaceConfig { RttMin = TimeSpan.Zero },
        new BabelInterfaceConfig { RttMin = TimeSpan.FromTicks(5) },
        new BabelInterfaceConfig { RttMax = TimeSpan.FromMilliseconds(-1) },
        new BabelInterfaceConfig { RttMin = TimeSpan.FromMilliseconds(50), RttMax = TimeSpan.FromMilliseconds(50) },
        new BabelInterfaceConfig { MaxRttPenalty = 0 },
        new BabelInterfaceConfig { MaxRttPenalty = 65536 },
        new BabelInterfaceConfig { Type = (BabelInterfaceType)9 },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void Values_babeld_would_answer_bad_to_are_refused(BabelInterfaceConfig config) =>
        Assert.ThrowsAny<ArgumentException>(() => BabelCommand.Interface("wg0", config));
}
