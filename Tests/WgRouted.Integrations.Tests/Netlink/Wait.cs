namespace WgRouted.Integrations.Tests.Netlink;

internal static class Wait
{
    /// <summary>Polls until the condition holds; fails the test with the description after the timeout.</summary>
    public static async Task Until(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"not reached in {timeout.TotalSeconds} s: {describe()}");
            await Task.Delay(20);
        }
    }
}
