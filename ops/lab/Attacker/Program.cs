using WgRouted.Lab.Attacker;

// wgr-attacker COMMAND --option value ...: the attacker of the lab's scenario h (ops/lab/security.sh). Every
// address it sends from or to must be a lab address (198.18.0.0/15, fd00::/8); every loop is bounded in count
// and time. A spoofed source is an address the lab put on the attacker namespace's lo (its rp_filter is off).
const string Usage = """
    usage: wgr-attacker COMMAND [--option value ...]
      capture-replay --netns PATH --ifaces IF[,IF] --port P --seconds S --delays MS[,MS] --from4 A[,A] --from6 A[,A] --out FILE
            sniff UDP to port P arriving on IFs of the namespace PATH for S seconds, re-send each payload to its
            destination DELAYS later from every source of its family; FILE gets one line per captured datagram
      burst --in FILE --from4 A[,A] --from6 A[,A] --within-ms MS
            every datagram of a capture file again, from every source of its family, spread over MS
      flood --to EP --from A --sender PUBLICKEY --rate N --seconds S
            N requests a second claiming the sender's key, with random MACs
      malformed --to EP --from A
            a source-port-0 datagram (raw socket), a truncated, an oversized and a version-1 one
      probe --key FILE --peer PUBLICKEY --to EP [--from A] [--timeout-ms MS]
            one authenticated request; says whether it was answered and the round trip
      move --key FILE --peer PUBLICKEY --to EP --from A[,A] --requested EP[,EP] [--sequence N] [--count N] [--interval-ms MS]
            authenticated move requests, the i-th endpoint asked for from the i-th source (numbered on the
            millisecond clock unless --sequence)
      forge --key FILE --peer PUBLICKEY --in FILE
            each move request of a capture file again with a fresh timestamp and its own sequence number, sent
            from the address it asks for
      roam --key FILE --peer PUBLICKEY --to EP --from EP --count N --interval-ms MS
            WireGuard handshake initiations with the key from a chosen source endpoint (the peer roams its
            endpoint for the key's owner there)
    """;

if (args.Length == 0)
{
    Console.Error.WriteLine(Usage);
    return 2;
}
try
{
    var options = Arguments.Parse(args.AsSpan(1));
    return args[0] switch
    {
        "capture-replay" => CaptureReplay.Run(options),
        "burst" => Burst.Run(options),
        "flood" => Flood.Run(options),
        "malformed" => Malformed.Run(options),
        "probe" => ProbeOnce.Run(options),
        "move" => Move.Run(options),
        "forge" => Forge.Run(options),
        "roam" => Roam.Run(options),
        _ => throw new UsageException($"unknown command '{args[0]}'"),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"wgr-attacker: {e.Message}");
    Console.Error.WriteLine(Usage);
    return 2;
}
