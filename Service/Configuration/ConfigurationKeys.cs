using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace WgRouted.Service.Configuration;

/// <summary>
/// Walks the configuration against the options' shape before binding, so that every unknown key and every value
/// of the wrong type is reported at once with its full path ("Interfaces:0:Peers:1:Fwmrk: unknown key; did you
/// mean Fwmark?"), which the binder does not do (it stops at the first and, inside a list, names no path).
/// </summary>
internal static class ConfigurationKeys
{
    // The walk reads the options' properties by reflection, which Native AOT keeps only for the types named here.
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(WgRoutedOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(StoreOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(ProbeOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(PolicySection))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(BabelOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(OtlpOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(HistoryOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(InterfaceOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties, typeof(PeerOptions))]
    public static List<string> Check(IConfiguration configuration, Type shape)
    {
        var errors = new List<string>();
        Walk(configuration.GetChildren(), shape, errors);
        return errors;
    }

    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Check keeps the public properties of every options type.")]
    private static void Walk(IEnumerable<IConfigurationSection> children, Type shape, List<string> errors)
    {
        var properties = shape.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToList();
        foreach (var section in children)
        {
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, section.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                var guess = Closest(section.Key, properties.Select(p => p.Name));
                errors.Add($"{section.Path}: unknown key{(guess is null ? "" : $"; did you mean {guess}?")} (known here: {string.Join(", ", properties.Select(p => p.Name))})");
                continue;
            }
            Value(section, property.PropertyType, errors);
        }
    }

    private static void Value(IConfigurationSection section, Type type, List<string> errors)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string) || target.IsPrimitive || target == typeof(decimal))
        {
            if (section.GetChildren().Any())
            {
                errors.Add($"{section.Path}: an object or list where a value ({Name(target)}) belongs");
                return;
            }
            if (section.Value is { Length: > 0 } text && target != typeof(string) && !Converts(text, target))
                errors.Add($"{section.Path}: '{text}' is not {Name(target)}");
            return;
        }
        if (target.IsGenericType && target.GetGenericTypeDefinition() == typeof(List<>))
        {
            var item = target.GetGenericArguments()[0];
            if (section.Value is { Length: > 0 } scalar)
            {
                errors.Add($"{section.Path}: '{scalar}' where a list belongs");
                return;
            }
            foreach (var element in section.GetChildren())
            {
                if (!int.TryParse(element.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                    errors.Add($"{element.Path}: '{element.Key}' is not a list index (a list is written [ ... ])");
                else
                    Value(element, item, errors);
            }
            return;
        }
        if (typeof(IEnumerable).IsAssignableFrom(target))
            return;
        if (section.Value is { Length: > 0 } value)
        {
            errors.Add($"{section.Path}: '{value}' where an object belongs");
            return;
        }
        Walk(section.GetChildren(), target, errors);
    }

    /// <summary>Parses as the binder does (its generated code, which is what runs under Native AOT).</summary>
    private static bool Converts(string text, Type type) => type switch
    {
        _ when type == typeof(int) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
        _ when type == typeof(double) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _),
        _ when type == typeof(bool) => bool.TryParse(text, out _),
        _ => throw new NotSupportedException($"no check for option values of type {type.Name}"),
    };

    private static string Name(Type type) => type switch
    {
        _ when type == typeof(int) => "a whole number",
        _ when type == typeof(double) => "a number",
        _ when type == typeof(bool) => "true or false",
        _ => type.Name,
    };

    /// <summary>The known name nearest to <paramref name="key"/> (at most 2 edits, or a different case), if any.</summary>
    private static string? Closest(string key, IEnumerable<string> names)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var name in names)
        {
            var d = Distance(key.ToLowerInvariant(), name.ToLowerInvariant());
            if (d < bestDistance)
                (best, bestDistance) = (name, d);
        }
        return bestDistance <= Math.Max(2, key.Length / 4) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
