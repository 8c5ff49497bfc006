using System;
using System.Threading;

namespace SyncPool.Native;

/// <summary>
/// A native cancellation signal (rust/src/cancel.rs): passed by number to
/// native waits, signalled from another thread (StopProcessing) to end them
/// at once. Made on first use, so a cmdlet that never waits makes none.
/// </summary>
internal sealed class CancelSignal : IDisposable
{
    private ulong _id;
    private int _signalled;

    /// <summary>The number to pass to native waits.</summary>
    public ulong Id
    {
        get
        {
            if (_id == 0)
            {
                ulong id = Interop.syncpool_cancel_create();
                if (Interlocked.CompareExchange(ref _id, id, 0) != 0) Interop.syncpool_cancel_release(id);
                if (Volatile.Read(ref _signalled) != 0) Interop.syncpool_cancel_signal(_id);
            }
            return _id;
        }
    }

    public bool IsSignalled => Volatile.Read(ref _signalled) != 0;

    /// <summary>Ends every wait given this signal, now and later.</summary>
    public void Signal()
    {
        Volatile.Write(ref _signalled, 1);
        ulong id = Volatile.Read(ref _id);
        if (id != 0) Interop.syncpool_cancel_signal(id);
    }

    public void Dispose()
    {
        ulong id = Interlocked.Exchange(ref _id, 0);
        if (id != 0) Interop.syncpool_cancel_release(id);
    }
}
