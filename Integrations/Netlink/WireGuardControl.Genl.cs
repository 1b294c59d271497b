using System.Net;

namespace WgRouted.Integrations.Netlink;

public sealed partial class WireGuardControl
{
    private NetlinkSocket? _genl;
    private ushort _family;

    private WireGuardDevice GenlGet(string name)
    {
        var (socket, family) = Genl();
        var messages = socket.Dump(seq => WireGuardGenlCodec.EncodeGetDevice(family, name, seq), $"WG_CMD_GET_DEVICE {name}");
        return WireGuardGenlCodec.DecodeDevice(messages.Where(m => m.Type == family).Select(m => m.Payload));
    }

    private void GenlSetEndpoint(string name, byte[] peer, IPEndPoint endpoint)
    {
        var (socket, family) = Genl();
        socket.Transact(WireGuardGenlCodec.EncodeSetEndpoint(family, name, peer, endpoint, socket.NextSeq()),
            $"WG_CMD_SET_DEVICE {name} peer endpoint {FormatEndpoint(endpoint)}");
    }

    private void GenlSetFirewallMark(string name, uint mark)
    {
        var (socket, family) = Genl();
        socket.Transact(WireGuardGenlCodec.EncodeSetFirewallMark(family, name, mark, socket.NextSeq()), $"WG_CMD_SET_DEVICE {name} fwmark {mark}");
    }

    private (NetlinkSocket Socket, ushort Family) Genl()
    {
        if (_genl is null)
        {
            var socket = NetworkNamespace.Run(networkNamespace, () => NetlinkSocket.Open(NetlinkSocket.NETLINK_GENERIC));
            try
            {
                var replies = socket.Transact(WireGuardGenlCodec.EncodeGetFamily(socket.NextSeq()), "CTRL_CMD_GETFAMILY wireguard");
                _family = WireGuardGenlCodec.DecodeFamilyId(replies.Find(m => m.Type == WireGuardGenlCodec.GENL_ID_CTRL).Payload.Span);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            _genl = socket;
        }
        return (_genl, _family);
    }
}
