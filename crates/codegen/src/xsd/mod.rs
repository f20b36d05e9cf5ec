//! Reading XML Schema: documents ([`dom`]), the set they form through include and
//! import ([`load`]), and the resolved components ([`model`], built by [`resolve`]).

pub mod dom;
pub mod load;
pub mod model;
pub mod resolve;
