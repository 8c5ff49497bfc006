using System;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Text;
using SyncPool.Native;

namespace SyncPool.Table;

/// <summary>
/// How a value that is not a plain number, text, date or byte array leaves
/// the process for a table on a Redis server. PowerShell data (arrays,
/// hashtables, ordered dictionaries, [PSCustomObject]s, decimals, GUIDs...)
/// goes in the data encoding the exports use (<see cref="PowerShellData"/>)
/// and comes back as the same types. Any other object goes the way
/// PowerShell moves objects between processes, as CLIXML
/// (<see cref="ClixmlDepth"/> levels deep), and comes back deserialized, as
/// from Receive-Job. A live object that means nothing outside this process
/// (the host, a scriptblock, a runspace, a SyncTable...) is refused, naming
/// the key: storing a dead copy of it would only hide the mistake.
/// </summary>
internal static class RemoteForms
{
    /// <summary>How deep CLIXML serializes other objects (as Start-Job and Receive-Job do by default).</summary>
    public const int ClixmlDepth = 2;

    /// <summary>The value's bytes, and whether they are data (true) or CLIXML (false).</summary>
    public static (bool IsData, byte[] Bytes) Encode(object value, object key)
    {
        Refuse(value, key, nested: false);
        // A live object or a secret inside data (@{ h = $host }, @(1, { 2 })) is refused
        // the same way: CLIXML would store a dead copy of it, or a scriptblock as its text.
        var writer = new DataWriter { MetUnsavable = inner => Refuse(inner, key, nested: true) };
        PowerShellData.Write(writer, value);
        if (writer.Unsavables == 0) return (true, writer.Written.ToArray());
        return (false, Encoding.UTF8.GetBytes(PSSerializer.Serialize(value, ClixmlDepth)));
    }

    public static object? Decode(bool isData, ReadOnlySpan<byte> bytes)
    {
        if (!isData) return PSSerializer.Deserialize(Encoding.UTF8.GetString(bytes));
        var reader = new DataReader(bytes);
        return PowerShellData.Read(ref reader);
    }

    /// <summary>
    /// Refuses, naming the key, a value (or, <paramref name="nested"/>, one
    /// inside it) that cannot sensibly leave the process: a live object that
    /// means nothing elsewhere (<see cref="IsLive"/>), or a SecureString
    /// (alone or in a PSCredential), which would reach the server as CLIXML,
    /// and CLIXML outside Windows keeps its text readable to anyone who can
    /// read the server.
    /// </summary>
    private static void Refuse(object value, object key, bool nested)
    {
        object bare = value is PSObject wrapped ? wrapped.BaseObject : value;
        if (bare is System.Security.SecureString or PSCredential)
            throw new SyncPoolException(ErrorCode.NotSerializable,
                $"The value for key '{key}' {(nested ? "holds" : "is")} a [{bare.GetType().FullName}]: on a Redis server its secret would be readable by anyone who can read the server, so a SyncTable there does not store it. Keep secrets in the process (an in-process SyncTable, or SecretManagement), and pass only what is not secret.");
        if (IsLive(bare))
            throw new SyncPoolException(ErrorCode.NotSerializable,
                $"The value for key '{key}' {(nested ? "holds a live [" + bare.GetType().FullName + "] inside it" : "is a live [" + bare.GetType().FullName + "]")}, which means nothing outside this process, so a SyncTable on a Redis server cannot hold it. Store data instead (the properties you need, in a hashtable or [PSCustomObject]).");
    }

    private static bool IsLive(object value) => value is ScriptBlock or PSHost or Runspace or RunspacePool
        or System.Management.Automation.PowerShell or SessionState or EngineIntrinsics or PSCmdlet
        or SyncTable or Delegate or System.Threading.WaitHandle or System.Threading.Thread
        or System.Threading.Tasks.Task or System.IO.Stream or System.Runtime.InteropServices.SafeHandle
        or Pool.TaskPool or Pool.ParallelTask;
}
