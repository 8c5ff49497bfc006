using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// Lets -Pool take a pool object, a pool name or a pool id. A name or id of
/// no pool binds to a placeholder the cmdlet reports as SyncPool.PoolNotFound
/// (ObjectNotFound), like every other lookup, rather than as a binding error.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class PoolTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = inputData is PSObject pso ? pso.BaseObject : inputData;
        if (value is IList list and not TaskPool[])
        {
            var pools = new object?[list.Count];
            for (int i = 0; i < list.Count; i++) pools[i] = TransformOne(list[i]);
            return pools;
        }
        return TransformOne(inputData);
    }

    private static object? TransformOne(object? inputData)
    {
        object? value = inputData is PSObject pso ? pso.BaseObject : inputData;
        switch (value)
        {
            case null or TaskPool:
                return value;
            case string name:
                return TaskEngine.FindPool(name) ?? TaskPool.NotFound(name);
            case int or long:
                long id = Convert.ToInt64(value);
                return TaskEngine.Pools().FirstOrDefault(p => p.Id == id) ?? TaskPool.NotFound(id);
            default:
                return inputData;
        }
    }
}
