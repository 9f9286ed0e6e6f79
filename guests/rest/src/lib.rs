//! The REST module as a component: the same `rectus_rest::Rest` the host links, exported
//! through the SDK's component backend. The host loads it with `REST_MODULE=component`.

rectus_sdk::export_endpoint!(rectus_rest::Rest, "../../wit");
