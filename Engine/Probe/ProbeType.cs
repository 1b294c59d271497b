namespace WgRouted.Engine.Probe;

/// <summary>The type byte of a probe packet.</summary>
public enum ProbeType : byte
{
    Request = 1,
    Reply = 2,
    MoveRequest = 3,
    MoveReply = 4,
}
