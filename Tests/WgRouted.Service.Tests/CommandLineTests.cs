using WgRouted.Service.Cli;

namespace WgRouted.Service.Tests;

public sealed class CommandLineTests
{
    [Theory]
    [InlineData("frobnicate")]
    [InlineData("run")]
    [InlineData("run", "--config")]
    [InlineData("events", "--config", "x.json", "--since", "yesterday-ish")]
    [InlineData("check-config", "--config", "x.json", "--bogus")]
    public void Bad_arguments_are_parse_errors(params string[] args) =>
        Assert.NotEmpty(CommandLine.Build().Parse(args).Errors);

    [Theory]
    [InlineData("run", "--config", "x.json")]
    [InlineData("check-config", "-c", "x.json")]
    [InlineData("events", "--config", "x.json", "--peer", "k", "--since", "2026-11-27T10:00:00Z", "--json")]
    [InlineData("demo", "--config", "x.json")]
    public void Documented_arguments_parse(params string[] args) =>
        Assert.Empty(CommandLine.Build().Parse(args).Errors);

    [Fact]
    public async Task Bad_arguments_exit_with_2()
    {
        var saved = Console.Error;
        Console.SetError(TextWriter.Null);
        try
        {
            Assert.Equal(2, await CommandLine.InvokeAsync(["run", "--no-such-option"]));
        }
        finally
        {
            Console.SetError(saved);
        }
    }
}
