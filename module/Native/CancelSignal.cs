using System;
using System.Threading;

namespace SyncPool.Native;

/// <summary>
/// A cancellation signal of the native core (rust/src/cancel.rs), by number.
/// A native wait given the number returns as soon as the signal fires, woken
/// by it rather than by polling; 0 means "not cancellable". The native signal
/// is made on first use of <see cref="Id"/>, so a cmdlet that never waits
/// makes none, and a <see cref="Signal"/> that came first still counts. The
/// number stays harmless after <see cref="Dispose"/>: the core forgets it,
/// and a signal or wait naming it then finds nothing.
/// </summary>
internal sealed class CancelSignal : IDisposable
{
    private ulong _id;
    private int _signalled;

    /// <summary>The number native waits take.</summary>
    public ulong Id
    {
        get
        {
            if (Volatile.Read(ref _id) == 0)
            {
                NativeLibraryLoader.EnsureLoaded();
                ulong id = Interop.syncpool_cancel_create();
                if (Interlocked.CompareExchange(ref _id, id, 0) != 0) Interop.syncpool_cancel_release(id);
                if (Volatile.Read(ref _signalled) != 0) Interop.syncpool_cancel_signal(_id);
            }
            return _id;
        }
    }

    public bool IsSignalled => Volatile.Read(ref _signalled) != 0;

    /// <summary>Ends every wait given this signal, now and later. Safe from any thread, idempotent.</summary>
    public void Signal()
    {
        // A full fence, as the CompareExchange in Id is: whichever of the two
        // runs second sees the other's write, so a signal racing the native
        // signal's creation is never lost.
        Interlocked.Exchange(ref _signalled, 1);
        ulong id = Volatile.Read(ref _id);
        if (id != 0) Interop.syncpool_cancel_signal(id);
    }

    public void Dispose()
    {
        ulong id = Interlocked.Exchange(ref _id, 0);
        if (id != 0) Interop.syncpool_cancel_release(id);
    }
}
