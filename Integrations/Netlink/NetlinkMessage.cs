using System.Runtime.InteropServices;

namespace WgRouted.Integrations.Netlink;

/// <summary>One received netlink message: its header fields and the bytes after struct nlmsghdr.</summary>
internal readonly record struct NetlinkMessage(ushort Type, ushort Flags, uint Seq, ReadOnlyMemory<byte> Payload)
{
    public const int HeaderLength = 16;

    public const ushort NLMSG_NOOP = 1;
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;
    public const ushort NLMSG_OVERRUN = 4;

    public const ushort NLM_F_REQUEST = 0x1;
    public const ushort NLM_F_MULTI = 0x2;
    public const ushort NLM_F_ACK = 0x4;
    public const ushort NLM_F_DUMP_INTR = 0x10;
    public const ushort NLM_F_REPLACE = 0x100;
    public const ushort NLM_F_EXCL = 0x200;
    public const ushort NLM_F_CREATE = 0x400;
    public const ushort NLM_F_DUMP = 0x300; // NLM_F_ROOT | NLM_F_MATCH
    public const ushort NLM_F_CAPPED = 0x100;
    public const ushort NLM_F_ACK_TLVS = 0x200;

    public const ushort NLA_F_NESTED = 0x8000;
    public const ushort NLMSGERR_ATTR_MSG = 1;

    /// <summary>Splits a datagram into messages; throws NetlinkFormatException on a bad length.</summary>
    public static List<NetlinkMessage> Split(ReadOnlyMemory<byte> datagram)
    {
        var messages = new List<NetlinkMessage>();
        var offset = 0;
        while (datagram.Length - offset >= HeaderLength)
        {
            var header = MemoryMarshal.Read<NlMsgHdr>(datagram.Span[offset..]);
            if (header.Length < HeaderLength || header.Length > datagram.Length - offset)
                throw new NetlinkFormatException($"nlmsg_len {header.Length} with {datagram.Length - offset} bytes left");
            var length = (int)header.Length;
            messages.Add(new NetlinkMessage(header.Type, header.Flags, header.Seq,
                datagram.Slice(offset + HeaderLength, length - HeaderLength)));
            offset += Wire.Align(length);
        }
        return messages;
    }

    /// <summary>For NLMSG_ERROR: the errno (positive, 0 for an ack) and the extended-ack message if any.</summary>
    public (int Errno, string? Message) ReadError()
    {
        var span = Payload.Span;
        var error = Wire.Read<int>(span, "nlmsgerr");
        string? text = null;
        if ((Flags & NLM_F_ACK_TLVS) != 0)
        {
            // The echoed request follows the error code: just its header when capped, else the whole request.
            long skip = 4 + HeaderLength;
            if ((Flags & NLM_F_CAPPED) == 0 && span.Length >= skip)
                skip = 4 + Math.Max(HeaderLength, MemoryMarshal.Read<NlMsgHdr>(span[4..]).Length);
            skip = (skip + 3) & ~3L;
            if (skip <= span.Length)
            {
                var attributes = new NetlinkAttributes(span[(int)skip..]);
                while (attributes.Next(out var type, out var value))
                    if (type == NLMSGERR_ATTR_MSG)
                        text = Wire.String(value);
            }
        }
        return (-error, text);
    }
}
