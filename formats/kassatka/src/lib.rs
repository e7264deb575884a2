//! The Kassatka 1C integration API's bodies (seed `000_bbd6a056a684fcee.txt`),
//! as pure codecs: the receipts export ([`documents`]), the product catalogue
//! upload ([`nomenclature`]), the 1C money and quantity texts ([`amount`]),
//! and the small XML tree both are read through ([`xml_tree`]).
//!
//! A crate of its own because two sides speak it: the agent's Kassatka
//! client (`masterkassa::kassatka`) and the fake Kassatka (`sim-kassatka`),
//! and neither may depend on the other.

pub mod amount;
pub mod documents;
pub mod nomenclature;
pub mod xml_tree;
