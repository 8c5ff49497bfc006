//! The C ABI: the only place that knows about interoptopus.
//!
//! C# bindings are generated from [`inventory`] by `bindings/generator`; see
//! README "Regenerating bindings". Nothing in this module decides behaviour:
//! it converts arguments, calls [`crate::table`] / [`crate::pool`], and turns
//! failures (and panics) into error codes.

pub mod batch;
pub mod cancel;
pub mod fault;
pub mod objects;
pub mod parked;
pub mod pool_core;
pub mod remote_calls;
pub mod table_core;
pub mod values;

use interoptopus::inventory::RustInventory;
use interoptopus::{builtins_string, builtins_vec, function, service};

/// Everything the C# bindings expose.
pub fn inventory() -> RustInventory {
    RustInventory::new()
        .register(builtins_string!())
        .register(builtins_vec!(u8))
        .register(builtins_vec!(values::EntryOut))
        .register(builtins_vec!(values::KeyOut))
        .register(builtins_vec!(objects::ObjectLease))
        .register(function!(fault::syncpool_last_error))
        .register(function!(fault::syncpool_test_panic))
        .register(function!(cancel::syncpool_cancel_create))
        .register(function!(cancel::syncpool_cancel_signal))
        .register(function!(cancel::syncpool_cancel_release))
        .register(function!(objects::syncpool_set_object_releaser))
        .register(function!(objects::syncpool_object_lease_end))
        .register(function!(objects::syncpool_object_leases_open))
        .register(function!(parked::syncpool_parked_take))
        .register(function!(parked::syncpool_parked_open))
        .register(service!(table_core::TableCore))
        .register(function!(pool_core::syncpool_engine_start))
        .register(function!(pool_core::syncpool_engine_take_faults))
        .register(function!(pool_core::syncpool_engine_shutdown))
        .register(function!(pool_core::syncpool_engine_stats))
        .register(function!(pool_core::syncpool_pool_create))
        .register(function!(pool_core::syncpool_pool_info))
        .register(function!(pool_core::syncpool_pool_seal))
        .register(function!(pool_core::syncpool_group_end))
        .register(function!(pool_core::syncpool_pool_remove))
        .register(function!(pool_core::syncpool_pool_remove_owned_by))
        .register(function!(pool_core::syncpool_pool_list))
        .register(function!(pool_core::syncpool_pool_find))
        .register(function!(pool_core::syncpool_task_submit))
        .register(function!(pool_core::syncpool_task_list))
        .register(function!(pool_core::syncpool_tasks_stop))
        .register(function!(pool_core::syncpool_task_find))
        .register(function!(pool_core::syncpool_batch_peek))
        .register(function!(pool_core::syncpool_batch_next))
        .register(function!(pool_core::syncpool_batch_end))
        .register(service!(pool_core::TaskRef))
        .register(service!(pool_core::TaskWait))
        .validate()
}
