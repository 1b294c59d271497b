using System.Globalization;
using System.Net;
using WgRouted.Engine.Probe;

namespace WgRouted.Lab.Attacker;

/// <summary>A UDP datagram seen on the wire. In a capture file: "UNIXMS SOURCE DESTINATION PORT TYPE HEXPAYLOAD".</summary>
internal sealed record Captured(long AtMs, IPAddress Source, IPEndPoint Destination, byte[] Payload)
{
    /// <summary>The probe type byte, or 0 when the payload is not a probe.</summary>
    public byte Type => Payload.Length >= ProbeCodec.HeaderSize && Payload.AsSpan(0, 4).SequenceEqual("WGRP"u8) ? Payload[5] : (byte)0;

    public string ToLine() => string.Create(CultureInfo.InvariantCulture,
        $"{AtMs} {Source} {Destination.Address} {Destination.Port} {Type} {Convert.ToHexString(Payload)}");

    public static List<Captured> Read(string path)
    {
        List<Captured> all = [];
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--in {path}: {e.Message}");
        }
        foreach (var line in lines)
        {
            var f = line.Split(' ');
            if (f.Length != 6 || !long.TryParse(f[0], CultureInfo.InvariantCulture, out var at)
                || !IPAddress.TryParse(f[1], out var source) || !IPAddress.TryParse(f[2], out var to)
                || !int.TryParse(f[3], CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
                throw new UsageException($"--in {path}: '{line}' is not a captured datagram");
            all.Add(new Captured(at, source, new IPEndPoint(to, port), Convert.FromHexString(f[5])));
        }
        return all;
    }
}
