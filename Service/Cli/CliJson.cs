using System.Text.Json;
using WgRouted.Service.Store;

namespace WgRouted.Service.Cli;

internal static class CliJson
{
    /// <summary>The events' options (<see cref="EventJson"/>) that also know the commands' own rows.</summary>
    public static JsonSerializerOptions Create(bool indented = false)
    {
        var options = EventJson.Create(indented);
        options.TypeInfoResolverChain.Add(CliJsonContext.Default);
        return options;
    }
}
