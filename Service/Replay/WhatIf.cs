using System.Collections;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Replay;

/// <summary>`--what-if Section:Key=Value`: the configuration loaded again with these values, checked by the same rules.</summary>
public static class WhatIf
{
    /// <summary>The settings a replay can vary: the policy's and the loss threshold (probe timing is what was recorded).</summary>
    public static bool Replayable(string key) =>
        key.StartsWith("Policy:", StringComparison.OrdinalIgnoreCase) || key.Equals("Probe:LossThreshold", StringComparison.OrdinalIgnoreCase);

    /// <summary>The variant's configuration, or the errors (each naming the key and value).</summary>
    public static WgRoutedConfig Load(string configPath, IReadOnlyList<string> overrides, out List<string> errors)
    {
        errors = [];
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            environment[(string)e.Key] = (string?)e.Value;
        foreach (var o in overrides)
        {
            var eq = o.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                errors.Add($"--what-if '{o}': expected Section:Key=Value, e.g. Policy:HoldDownMs=5000");
                continue;
            }
            var key = o[..eq].Trim();
            if (!Replayable(key))
            {
                errors.Add($"--what-if '{o}': {key} cannot be varied in a replay (Policy:* and Probe:LossThreshold can; probe timing is what was recorded)");
                continue;
            }
            environment[ConfigurationLoader.EnvironmentPrefix + key.Replace(":", "__", StringComparison.Ordinal)] = o[(eq + 1)..].Trim();
        }
        if (errors.Count > 0)
            return null!;
        try
        {
            return ConfigurationLoader.Load(configPath, environment);
        }
        catch (ConfigurationException e)
        {
            errors.Add($"--what-if: {e.Message}");
            return null!;
        }
    }
}
